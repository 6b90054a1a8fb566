import type { FastifyRequest } from 'fastify';
import type { SpeechEntity } from '../../domain/customspeech/entities.js';
import type { WebHook } from '../../domain/customspeech/webhook.js';
import type { WebHookPayloadRenderer } from '../../domain/customspeech/webhook-service.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { datasetView } from './datasets.js';
import { Urls } from './urls.js';
import { customModelView, endpointView } from './views.js';
import { webhookView } from './webhooks.js';

/** Renders one more entity kind (e.g. evaluations, registered by their plugin's owner). */
export type EntityView = (entity: SpeechEntity, urls: Urls) => Record<string, unknown>;

/**
 * The payloads of web hook deliveries (protocol §D.7): the entity exactly as GET shows it, in the API
 * version the hook was created with, with `self` URLs on the origin (scheme and host) the hook was
 * registered through. Kinds without a view are not delivered.
 */
export function webhookPayloads(suffixes: HostSuffixes, extra: Partial<Record<string, EntityView>> = {}): WebHookPayloadRenderer {
  return (hook: WebHook, entity: SpeechEntity) => {
    const urls = urlsForOrigin(hook.origin, hook.apiVersion, suffixes);
    switch (entity.kind) {
      case 'dataset':
        return datasetView(entity, urls);
      case 'model':
        return customModelView(entity, urls);
      case 'endpoint':
        return endpointView(entity, urls);
      case 'webhook':
        return webhookView(entity, urls);
      default:
        return extra[entity.kind]?.(entity, urls);
    }
  };
}

/** Urls as a request on `origin` would build them (Urls reads only the scheme and Host of a request). */
export function urlsForOrigin(origin: string, version: string, suffixes: HostSuffixes): Urls {
  const u = new URL(origin);
  const pseudo = { headers: { host: u.host }, hostname: u.hostname, protocol: u.protocol.replace(/:$/, '') } as unknown as FastifyRequest;
  return new Urls(pseudo, version, suffixes);
}
