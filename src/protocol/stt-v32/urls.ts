import type { FastifyRequest } from 'fastify';
import { classifyHost, type HostSuffixes } from '../../domain/resources/hosts.js';
import type { ModelRef } from '../../domain/customspeech/entities.js';
import { Errors } from '../../domain/errors.js';

/**
 * Absolute URLs of entities, built from the request's own scheme and Host so that `self`, `links`
 * and `@nextLink` point back at this server whatever name the client used (protocol §D.2).
 */
export class Urls {
  readonly base: string;
  private readonly origin: string;
  private readonly host: string;

  constructor(
    req: FastifyRequest,
    readonly version: string,
    private readonly suffixes: HostSuffixes,
  ) {
    this.host = req.headers.host ?? `${req.hostname}`;
    this.origin = `${req.protocol}://${this.host}`;
    this.base = `${this.origin}/speechtotext/${version}`;
  }

  entity(path: string): string {
    return `${this.base}/${path}`;
  }

  model(ref: ModelRef): string {
    return ref.kind === 'base' ? this.entity(`models/base/${ref.id}`) : this.entity(`models/${ref.id}`);
  }

  /**
   * Where recognition for this resource goes: the regional STT host for a regional API host, the
   * `/stt` form on a custom domain (seed 001), the same host otherwise (container style).
   */
  recognition(kind: 'rest' | 'ws', mode: 'interactive' | 'conversation' | 'dictation', cid: string): string {
    const route = classifyHost(this.host, this.suffixes);
    const secure = this.origin.startsWith('https:');
    const scheme = kind === 'ws' ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
    const port = /:(\d+)$/.exec(this.host)?.[1];
    let authority = this.host;
    let prefix = '';
    if (route.kind === 'regional') authority = `${route.region}.stt.${this.suffixes.speechSuffix}${port ? `:${port}` : ''}`;
    if (route.kind === 'customDomain') prefix = '/stt';
    return `${scheme}://${authority}${prefix}/speech/recognition/${mode}/cognitiveservices/v1?cid=${cid}`;
  }
}

const GUID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';

/** `{"self": ".../models/base/{id}"}` or `.../models/{id}` → the model; any host is accepted (clients copy URLs around). */
export function modelFromReference(ref: unknown): ModelRef {
  const self = selfOf(ref, 'model');
  const base = new RegExp(`/models/base/${GUID}/?$`).exec(self);
  if (base?.[1]) return { kind: 'base', id: base[1].toLowerCase() };
  const custom = new RegExp(`/models/${GUID}/?$`).exec(self);
  if (custom?.[1]) return { kind: 'custom', id: custom[1].toLowerCase() };
  throw Errors.invalidArgument(`The model reference '${self}' is not a model URL.`, { innerCode: 'InvalidModelUri' });
}

export function projectFromReference(ref: unknown): string {
  const self = selfOf(ref, 'project');
  const m = new RegExp(`/projects/${GUID}/?$`).exec(self);
  if (!m?.[1]) throw Errors.invalidArgument(`The project reference '${self}' is not a project URL.`, { innerCode: 'InvalidProject' });
  return m[1].toLowerCase();
}

export function datasetFromReference(ref: unknown): string {
  const self = selfOf(ref, 'dataset');
  const m = new RegExp(`/datasets/${GUID}/?$`).exec(self);
  if (!m?.[1]) throw Errors.invalidArgument(`The dataset reference '${self}' is not a dataset URL.`, { innerCode: 'InvalidDataset' });
  return m[1].toLowerCase();
}

function selfOf(ref: unknown, what: string): string {
  const self = typeof ref === 'object' && ref !== null ? (ref as { self?: unknown }).self : undefined;
  if (typeof self !== 'string' || self === '') throw Errors.invalidArgument(`The ${what} reference must be an object with a 'self' URL.`, { innerCode: 'InvalidParameterValue' });
  return self;
}

export function isGuid(id: string): boolean {
  return new RegExp(`^${GUID}$`).test(id);
}
