import type { EntityError, EntityStatus } from './common.js';

/** The event kinds of v3.2 web hooks (WebHookEvents), as PascalCase event types (`X-MicrosoftSpeechServices-Event`). */
export const WEBHOOK_ENTITY_EVENTS = [
  'DatasetCreation', 'DatasetProcessing', 'DatasetCompletion', 'DatasetDeletion',
  'ModelCreation', 'ModelProcessing', 'ModelCompletion', 'ModelDeletion',
  'EvaluationCreation', 'EvaluationProcessing', 'EvaluationCompletion', 'EvaluationDeletion',
  'TranscriptionCreation', 'TranscriptionProcessing', 'TranscriptionCompletion', 'TranscriptionDeletion',
  'EndpointCreation', 'EndpointProcessing', 'EndpointCompletion', 'EndpointDeletion',
] as const;

export type SpeechEventType = (typeof WEBHOOK_ENTITY_EVENTS)[number];
export type WebHookEventType = SpeechEventType | 'Ping' | 'Challenge';

/** The `events` flags of a hook, keyed as in the API (camelCase: `datasetCompletion`, `ping`, …). */
export type WebHookEvents = Partial<Record<string, boolean>>;

/** `DatasetCompletion` → `datasetCompletion` (the flag that subscribes to it). */
export function eventFlag(type: WebHookEventType): string {
  return type.charAt(0).toLowerCase() + type.slice(1);
}

/**
 * A web hook registration (protocol §D.7): events of the account are POSTed to `webUrl` once the
 * challenge handshake has succeeded (status Succeeded). Payloads use the API version and the origin
 * (scheme and host) the hook was registered with.
 */
export interface WebHook {
  kind: 'webhook';
  id: string;
  accountId: string;
  displayName: string;
  description?: string;
  customProperties?: Record<string, string>;
  webUrl: string;
  events: WebHookEvents;
  /** HMAC-SHA256 key of the `X-MicrosoftSpeechServices-Signature` header (never shown back). */
  secret?: string;
  /** API version of the payloads (`v3.2`, `v3.1`). */
  apiVersion: string;
  /** `https://host[:port]` the hook was created through: the base of `self` URLs in payloads. */
  origin: string;
  status: EntityStatus;
  error?: EntityError;
  createdAt: string;
  lastActionAt: string;
}
