import type { SpeechEntity } from '../customspeech/entities.js';
import type { SpeechEventType } from '../customspeech/webhook.js';

export type { SpeechEventType } from '../customspeech/webhook.js';

/** A state change of a Custom Speech entity: created, processing, completed (Succeeded or Failed), deleted. */
export interface SpeechEvent {
  kind: SpeechEventType;
  /** The entity as it was at the change (for deletions: just before). */
  entity: SpeechEntity;
}

/** Where services report their entities' state changes (web hooks, protocol §D.7). Never throws, never waits. */
export interface SpeechEventSink {
  publish(accountId: string, event: SpeechEvent): void;
}

/** Publishes if a sink is set; a failing sink never affects the caller. */
export function emitSpeechEvent(sink: SpeechEventSink | undefined, kind: SpeechEventType, entity: SpeechEntity): void {
  if (!sink) return;
  try {
    sink.publish(entity.accountId, { kind, entity });
  } catch {
    // Deliveries are best effort.
  }
}
