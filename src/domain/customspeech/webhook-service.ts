import { createHmac, randomBytes } from 'node:crypto';
import { newUuid } from '../../kernel/ids.js';
import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../errors.js';
import { VersionConflictError, type SpeechEntityRepository } from '../ports/repositories.js';
import type { SpeechEvent, SpeechEventSink } from '../ports/speech-events.js';
import type { WebhookTransport } from '../ports/webhook-transport.js';
import { apiTimestamp, customPropertiesProblem } from './common.js';
import type { SpeechEntity, SpeechEntityKind } from './entities.js';
import { eventFlag, WEBHOOK_ENTITY_EVENTS, type SpeechEventType, type WebHook, type WebHookEventType, type WebHookEvents } from './webhook.js';

/** The JSON body of a delivery: the entity in the hook's API version, with URLs from the hook's origin. Undefined: cannot be rendered. */
export type WebHookPayloadRenderer = (hook: WebHook, entity: SpeechEntity) => unknown;

export interface WebHookInput {
  webUrl: string;
  displayName: string;
  description?: string;
  customProperties?: Record<string, string>;
  events: WebHookEvents;
  secret?: string;
  apiVersion: string;
  origin: string;
}

export interface WebHookChanges {
  webUrl?: string;
  displayName?: string;
  description?: string;
  customProperties?: Record<string, string>;
  events?: WebHookEvents;
  /** An empty string removes the secret. */
  secret?: string;
}

export interface WebHookServiceDeps {
  repo: SpeechEntityRepository;
  transport: WebhookTransport;
  render: WebHookPayloadRenderer;
  clock: Clock;
  logger: Logger;
  /** Waits before each retry of a failed delivery (default 1, 2, 4, 8, 16 s: six attempts in all). */
  retryDelaysMs?: readonly number[];
  /** Deliveries waiting per hook; the oldest are dropped beyond (default 100). */
  maxQueuePerHook?: number;
  /** Per POST (default 10 s). */
  timeoutMs?: number;
}

export const WEBHOOK_DEFAULTS = { retryDelaysMs: [1000, 2000, 4000, 8000, 16_000], maxQueuePerHook: 100, timeoutMs: 10_000 } as const;

export const EVENT_HEADER = 'X-MicrosoftSpeechServices-Event';
export const SIGNATURE_HEADER = 'X-MicrosoftSpeechServices-Signature';

const KNOWN_FLAGS = new Set<string>([...WEBHOOK_ENTITY_EVENTS.map(eventFlag), 'ping', 'challenge']);

/** Which entity kind an event type is about. */
const ENTITY_OF: Record<string, SpeechEntityKind | undefined> = { Dataset: 'dataset', Model: 'model', Endpoint: 'endpoint', Evaluation: 'evaluation' as SpeechEntityKind, Transcription: 'transcription' as SpeechEntityKind };

interface Delivery {
  hookId: string;
  url: string;
  type: WebHookEventType;
  body: string;
  secret?: string;
}

/**
 * Web hooks (protocol §D.7, issue #5 item 8): registrations, the challenge handshake (after create
 * and after a webUrl change), ping and test, and the delivery of entity events (the SpeechEventSink
 * the Custom Speech services report to). Deliveries are POSTs with the event type header and, with
 * a secret, base64(HMAC-SHA256(secret, body)); failures are retried with backoff, one queue per hook
 * (in order, bounded). Queued deliveries live in memory only: a restart loses those not yet sent.
 */
export class WebHookService implements SpeechEventSink {
  private readonly repo: SpeechEntityRepository;
  private readonly transport: WebhookTransport;
  private readonly render: WebHookPayloadRenderer;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly retryDelaysMs: readonly number[];
  private readonly maxQueue: number;
  private readonly timeoutMs: number;

  private readonly queues = new Map<string, Delivery[]>();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly challenges = new Set<Promise<void>>();
  private publishing: Promise<void> = Promise.resolve();
  private readonly aborter = new AbortController();
  private closed = false;

  constructor(deps: WebHookServiceDeps) {
    this.repo = deps.repo;
    this.transport = deps.transport;
    this.render = deps.render;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.retryDelaysMs = deps.retryDelaysMs ?? WEBHOOK_DEFAULTS.retryDelaysMs;
    this.maxQueue = Math.max(1, deps.maxQueuePerHook ?? WEBHOOK_DEFAULTS.maxQueuePerHook);
    this.timeoutMs = deps.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
  }

  private now(): string {
    return apiTimestamp(this.clock.now());
  }

  // --- registrations ------------------------------------------------------------------------------------

  async create(accountId: string, input: WebHookInput): Promise<WebHook> {
    const at = this.now();
    const hook: WebHook = {
      kind: 'webhook',
      id: newUuid(),
      accountId,
      displayName: input.displayName,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.customProperties !== undefined ? { customProperties: input.customProperties } : {}),
      webUrl: checkWebUrl(input.webUrl),
      events: checkEvents(input.events),
      ...(input.secret ? { secret: input.secret } : {}),
      apiVersion: input.apiVersion,
      origin: input.origin,
      status: 'NotStarted',
      createdAt: at,
      lastActionAt: at,
    };
    validateCommon(hook);
    await this.repo.insert(hook);
    this.scheduleChallenge(accountId, hook.id);
    return hook;
  }

  async get(accountId: string, id: string): Promise<WebHook> {
    const found = await this.repo.get(accountId, 'webhook', id);
    if (!found) throw Errors.notFound(`Web hook ${id} was not found.`);
    return found.value;
  }

  list(accountId: string): Promise<WebHook[]> {
    return this.repo.list(accountId, 'webhook');
  }

  /** A new webUrl (or any change of a hook whose challenge failed) starts the handshake again. */
  async update(accountId: string, id: string, changes: WebHookChanges): Promise<WebHook> {
    for (let attempt = 0; ; attempt++) {
      const found = await this.repo.get(accountId, 'webhook', id);
      if (!found) throw Errors.notFound(`Web hook ${id} was not found.`);
      const cur = found.value;
      const next: WebHook = { ...cur, lastActionAt: this.now() };
      if (changes.displayName !== undefined) next.displayName = changes.displayName;
      if (changes.description !== undefined) next.description = changes.description;
      if (changes.customProperties !== undefined) next.customProperties = changes.customProperties;
      if (changes.events !== undefined) next.events = checkEvents(changes.events);
      if (changes.secret !== undefined) {
        if (changes.secret === '') delete next.secret;
        else next.secret = changes.secret;
      }
      let rechallenge = false;
      if (changes.webUrl !== undefined) {
        next.webUrl = checkWebUrl(changes.webUrl);
        rechallenge = next.webUrl !== cur.webUrl || cur.status === 'Failed';
      }
      if (rechallenge) {
        next.status = 'NotStarted';
        delete next.error;
      }
      validateCommon(next);
      try {
        await this.repo.update(next, found.version);
      } catch (err) {
        if (err instanceof VersionConflictError && attempt < 5) continue;
        if (err instanceof VersionConflictError) throw Errors.conflict(err.message);
        throw err;
      }
      if (rechallenge) this.scheduleChallenge(accountId, id);
      return next;
    }
  }

  async delete(accountId: string, id: string): Promise<void> {
    await this.repo.delete(accountId, 'webhook', id.toLowerCase());
    this.queues.delete(id.toLowerCase());
  }

  // --- ping and test ----------------------------------------------------------------------------------------

  /** `:ping`: the hook itself, as event Ping. */
  async ping(accountId: string, id: string): Promise<void> {
    const hook = await this.active(accountId, id);
    this.enqueue(hook, 'Ping', hook);
  }

  /**
   * `:test`: for each subscribed event type, the last entity that would have raised it. Returns how
   * many deliveries were queued (0: nothing to send, 204).
   */
  async test(accountId: string, id: string): Promise<number> {
    const hook = await this.active(accountId, id);
    let sent = 0;
    for (const type of WEBHOOK_ENTITY_EVENTS) {
      if (!hook.events[eventFlag(type)] || type.endsWith('Deletion')) continue;
      const kind = ENTITY_OF[type.replace(/(Creation|Processing|Completion)$/, '')];
      if (!kind) continue;
      let entities: SpeechEntity[];
      try {
        entities = (await this.repo.list(accountId, kind)) as SpeechEntity[];
      } catch {
        continue;
      }
      const status = (e: SpeechEntity): string | undefined => ('status' in e ? e.status : undefined);
      const fits = entities.filter((e) =>
        type.endsWith('Completion') ? status(e) === 'Succeeded' || status(e) === 'Failed' : type.endsWith('Processing') ? status(e) !== 'NotStarted' : true,
      );
      const last = fits.sort((a, b) => lastAction(a).localeCompare(lastAction(b))).pop();
      if (last && this.enqueue(hook, type, last)) sent++;
    }
    return sent;
  }

  private async active(accountId: string, id: string): Promise<WebHook> {
    const hook = await this.get(accountId, id);
    if (hook.status !== 'Succeeded') {
      throw Errors.invalidArgument(`Web hook ${id} is ${hook.status}: it receives events once its challenge has succeeded.`, { innerCode: 'InvalidParameterValue' });
    }
    return hook;
  }

  // --- events -----------------------------------------------------------------------------------------------

  /** SpeechEventSink: queues the event for every active hook of the account subscribed to it. */
  publish(accountId: string, event: SpeechEvent): void {
    if (this.closed) return;
    this.publishing = this.publishing
      .then(async () => {
        const flag = eventFlag(event.kind);
        for (const hook of await this.repo.list(accountId, 'webhook')) {
          if (hook.status === 'Succeeded' && hook.events[flag]) this.enqueue(hook, event.kind, event.entity);
        }
      })
      .catch((err: unknown) => this.logger.warn({ err, event: event.kind }, 'web hook event not dispatched'));
  }

  /** Resolves when nothing is being dispatched, challenged or delivered (tests). */
  async settled(): Promise<void> {
    for (;;) {
      await this.publishing;
      const pending = [...this.workers.values(), ...this.challenges];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** Drops queued deliveries (they are not persisted) and waits for the ones under way. */
  async close(): Promise<void> {
    this.closed = true;
    this.queues.clear();
    this.aborter.abort(new Error('the service is shutting down'));
    await this.settled();
  }

  private enqueue(hook: WebHook, type: WebHookEventType, entity: SpeechEntity): boolean {
    if (this.closed) return false;
    let payload: unknown;
    try {
      payload = this.render(hook, entity);
    } catch (err) {
      this.logger.warn({ err, webhook: hook.id, event: type }, 'web hook payload could not be rendered');
      return false;
    }
    if (payload === undefined) return false;
    const delivery: Delivery = { hookId: hook.id, url: hook.webUrl, type, body: JSON.stringify(payload), ...(hook.secret ? { secret: hook.secret } : {}) };
    const queue = this.queues.get(hook.id) ?? [];
    this.queues.set(hook.id, queue);
    queue.push(delivery);
    while (queue.length > this.maxQueue) {
      const dropped = queue.shift();
      this.logger.warn({ webhook: hook.id, event: dropped?.type }, 'web hook queue full: oldest delivery dropped');
    }
    if (!this.workers.has(hook.id)) {
      const worker = this.drain(hook.id)
        .catch((err: unknown) => this.logger.error({ err, webhook: hook.id }, 'web hook delivery failed'))
        .finally(() => this.workers.delete(hook.id));
      this.workers.set(hook.id, worker);
    }
    return true;
  }

  private async drain(hookId: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(hookId);
      const next = queue?.shift();
      if (!next) {
        this.queues.delete(hookId);
        return;
      }
      await this.deliver(next);
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', [EVENT_HEADER]: d.type };
    if (d.secret) headers[SIGNATURE_HEADER] = signature(d.secret, d.body);
    for (let attempt = 0; ; attempt++) {
      if (this.closed || !this.queues.has(d.hookId)) return;
      let why: string;
      try {
        const res = await this.transport.post(d.url, { body: d.body, headers, timeoutMs: this.timeoutMs, signal: this.aborter.signal });
        if (res.status >= 200 && res.status < 300) return;
        why = `HTTP ${res.status}`;
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
      const delay = this.retryDelaysMs[attempt];
      if (delay === undefined) {
        this.logger.warn({ webhook: d.hookId, event: d.type, attempts: attempt + 1, why }, 'web hook delivery given up');
        return;
      }
      this.logger.info({ webhook: d.hookId, event: d.type, attempt: attempt + 1, why, retryInMs: delay }, 'web hook delivery failed; retrying');
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.aborter.signal;
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  // --- challenge --------------------------------------------------------------------------------------------

  private scheduleChallenge(accountId: string, id: string): void {
    if (this.closed) return;
    const p: Promise<void> = (async () => {
      // Let the create/update response go out with NotStarted first.
      await new Promise((r) => setImmediate(r));
      await this.challenge(accountId, id);
    })()
      .catch((err: unknown) => this.logger.error({ err, webhook: id }, 'web hook challenge failed'))
      .finally(() => this.challenges.delete(p));
    this.challenges.add(p);
  }

  private async challenge(accountId: string, id: string): Promise<void> {
    const found = await this.repo.get(accountId, 'webhook', id);
    if (!found || found.value.status !== 'NotStarted') return;
    const webUrl = found.value.webUrl;
    const token = randomBytes(24).toString('base64url');
    const url = new URL(webUrl);
    url.searchParams.set('validationToken', token);
    let error: { code: string; message: string } | undefined;
    try {
      const res = await this.transport.post(url.toString(), { body: '', headers: { [EVENT_HEADER]: 'Challenge' }, timeoutMs: this.timeoutMs, signal: this.aborter.signal });
      if (res.status !== 200) error = { code: 'WebHookChallengeFailed', message: `The challenge request to the web hook URL was answered with HTTP ${res.status} (expected 200 with the validation token).` };
      else if (res.text.trim() !== token) error = { code: 'WebHookChallengeFailed', message: 'The answer to the challenge request did not contain the validation token.' };
    } catch (err) {
      if (this.closed) return;
      error = { code: 'WebHookChallengeFailed', message: `The web hook URL could not be reached: ${err instanceof Error ? err.message : String(err)}` };
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const latest = await this.repo.get(accountId, 'webhook', id);
      // Changed meanwhile (deleted, or a new webUrl with a challenge of its own).
      if (!latest || latest.value.webUrl !== webUrl || latest.value.status !== 'NotStarted') return;
      const next: WebHook = { ...latest.value, status: error ? 'Failed' : 'Succeeded', lastActionAt: this.now() };
      if (error) next.error = error;
      else delete next.error;
      try {
        await this.repo.update(next, latest.version);
        return;
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
      }
    }
  }
}

/** base64(HMAC-SHA256(secret, body)): the `X-MicrosoftSpeechServices-Signature` header. */
export function signature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

function lastAction(e: SpeechEntity): string {
  return 'lastActionAt' in e && typeof e.lastActionAt === 'string' ? e.lastActionAt : e.createdAt;
}

function checkWebUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw Errors.invalidArgument(`webUrl '${String(url).slice(0, 200)}' is not an absolute URL.`, { innerCode: 'InvalidParameterValue' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw Errors.invalidArgument('webUrl must be an http or https URL.', { innerCode: 'InvalidParameterValue' });
  return parsed.toString();
}

function checkEvents(events: WebHookEvents): WebHookEvents {
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw Errors.invalidArgument("'events' must be an object of flags.", { innerCode: 'InvalidParameterValue' });
  const out: WebHookEvents = {};
  for (const [k, v] of Object.entries(events)) {
    if (!KNOWN_FLAGS.has(k)) throw Errors.invalidArgument(`Unknown web hook event '${k}'.`, { innerCode: 'InvalidParameterValue' });
    if (typeof v !== 'boolean') throw Errors.invalidArgument(`The web hook event '${k}' must be true or false.`, { innerCode: 'InvalidParameterValue' });
    out[k] = v;
  }
  return out;
}

function validateCommon(h: WebHook): void {
  if (typeof h.displayName !== 'string' || h.displayName.trim() === '' || h.displayName.length > 512) {
    throw Errors.invalidArgument('displayName is required (1 to 512 characters).', { innerCode: 'InvalidParameterValue' });
  }
  const problem = customPropertiesProblem(h.customProperties);
  if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
}

export type { SpeechEventType };
