/**
 * Names that appear on the Speech WebSocket ("USP") wire: message paths, frame header names, content types and the
 * query parameters the official SDKs put on the upgrade URL.
 *
 * These are spelled exactly as the SDKs send or expect them (see docs/protocol/speech-ws.md and the shared protocol
 * specification §A.2, §A.4–A.6, §B.2–B.3). Paths and header names are case-insensitive on the wire, so compare with
 * {@link pathMatches} / the lower-cased {@link HeaderKey} values rather than `===` against raw client input.
 * Query parameter names, by contrast, are matched case-sensitively by the SDKs themselves, so keep their spelling.
 *
 * @module
 */

/**
 * Paths of messages a client (SDK) sends to the service. All lower-case, as every SDK sends them.
 * Unknown paths must be ignored by the service, never treated as a protocol error (spec §A.5.5).
 */
export const ClientPath = {
  /** Once per connection, first message; C++ sends it without `X-RequestId`. */
  SpeechConfig: 'speech.config',
  /** Once per STT turn, opens the turn (new request id per turn). */
  SpeechContext: 'speech.context',
  /** Binary audio; the first of a turn may be a 44-byte WAV header, a zero-length payload ends the stream. */
  Audio: 'audio',
  /** Client metrics after each turn; accepted and discarded. */
  Telemetry: 'telemetry',
  /** Conversation transcription events. */
  SpeechEvent: 'speech.event',
  /** Generic event path some SDK features use. */
  Event: 'event',
  /** Dialog-service (bot) messages; not supported, ignored. */
  Agent: 'agent',
  /** Dialog-service (bot) configuration; not supported, ignored. */
  AgentConfig: 'agent.config',
  /** Dialog-service (bot) context; not supported, ignored. */
  SpeechAgentContext: 'speech.agent.context',
  /** TTS: per-request synthesis options (output format, metadata switches). */
  SynthesisContext: 'synthesis.context',
  /** TTS: the SSML document to synthesise. */
  Ssml: 'ssml',
  /** TTS text streaming: one chunk of plain text. */
  TextPiece: 'text.piece',
  /** TTS text streaming: end of the text input (empty body). */
  TextEnd: 'text.end',
  /** TTS: `{"action":"stop"}` from `stopSpeakingAsync`. */
  SynthesisControl: 'synthesis.control',
} as const;

/** A known client message path. */
export type ClientPath = (typeof ClientPath)[keyof typeof ClientPath];

/**
 * Paths of messages the service sends to a client. The mixed case of `speech.startDetected` / `speech.endDetected`
 * is how Azure spells them; the JS SDK lower-cases paths before dispatching, so the casing is cosmetic.
 */
export const ServicePath = {
  /** First message of every turn: `{"context":{"serviceTag":"…"}}`. */
  TurnStart: 'turn.start',
  /** Last message of every turn: `{}`. Without it SDK promises never resolve. */
  TurnEnd: 'turn.end',
  /** `{"Offset":<ticks>}` when voice activity starts. */
  SpeechStartDetected: 'speech.startDetected',
  /** `{"Offset":<ticks>}` when voice activity ends. */
  SpeechEndDetected: 'speech.endDetected',
  /** Interim result. */
  SpeechHypothesis: 'speech.hypothesis',
  /** Stable interim result (`interimResults.resultType = StableFragment`); handled like a hypothesis. */
  SpeechFragment: 'speech.fragment',
  /** Final result (or a NoMatch / error status). */
  SpeechPhrase: 'speech.phrase',
  /** Keyword verification result. */
  SpeechKeyword: 'speech.keyword',
  /** TTS: announces the audio stream id (`audio.streamId`); JS requires it before the first audio frame. */
  Response: 'response',
  /** TTS (and v2 translation synthesis): binary audio chunk with `X-StreamId`. */
  Audio: 'audio',
  /** TTS: `{"Metadata":[…]}` word boundaries, visemes, bookmarks, SessionEnd. */
  AudioMetadata: 'audio.metadata',
  /** Translation synthesis (v2): announces an audio stream. */
  AudioStart: 'audio.start',
  /** Translation synthesis (v2): end of an audio stream. */
  AudioEnd: 'audio.end',
  /** Translation interim result. */
  TranslationHypothesis: 'translation.hypothesis',
  /** Translation final result. */
  TranslationPhrase: 'translation.phrase',
  /** Legacy combined translation result. */
  TranslationResponse: 'translation.response',
  /** Translation synthesis audio (v1, binary). */
  TranslationSynthesis: 'translation.synthesis',
  /** Translation synthesis end marker (v1). */
  TranslationSynthesisEnd: 'translation.synthesis.end',
} as const;

/** A known service message path. */
export type ServicePath = (typeof ServicePath)[keyof typeof ServicePath];

/** Frame and upgrade header names, in the canonical spelling used when generating frames. */
export const HeaderName = {
  Path: 'Path',
  RequestId: 'X-RequestId',
  Timestamp: 'X-Timestamp',
  ContentType: 'Content-Type',
  StreamId: 'X-StreamId',
  ConnectionId: 'X-ConnectionId',
  /** Reliable-reconnect token (JS multichannel only). */
  ContinuationToken: 'X-Continuation-Token',
  /** Upgrade-request credential header (also accepted from the query string). */
  SubscriptionKey: 'Ocp-Apim-Subscription-Key',
  /** Upgrade-request bearer token header (also accepted from the query string). */
  Authorization: 'Authorization',
  /** Present in JS HeaderNames for special cases; ignored by the service. */
  SubscriptionId: 'Apim-Subscription-Id',
} as const;

/** A known header name (canonical spelling). */
export type HeaderName = (typeof HeaderName)[keyof typeof HeaderName];

/**
 * Lower-cased header names: the keys of `SpeechMessage.headers`, which the decoder lower-cases because header names
 * are case-insensitive on the wire.
 */
export const HeaderKey = {
  Path: 'path',
  RequestId: 'x-requestid',
  Timestamp: 'x-timestamp',
  ContentType: 'content-type',
  StreamId: 'x-streamid',
  ConnectionId: 'x-connectionid',
  ContinuationToken: 'x-continuation-token',
  SubscriptionKey: 'ocp-apim-subscription-key',
  Authorization: 'authorization',
  SubscriptionId: 'apim-subscription-id',
} as const satisfies Record<keyof typeof HeaderName, string>;

/** A lower-cased header name. */
export type HeaderKey = (typeof HeaderKey)[keyof typeof HeaderKey];

/** Content types seen in frames. */
export const ContentTypes = {
  /** What the JS SDK sends for JSON text messages. */
  Json: 'application/json',
  /** What the service sends for JSON text messages (spec §A.4 rule 7). */
  JsonUtf8: 'application/json; charset=utf-8',
  /** JS SDK's first audio message of a turn (the 44-byte WAV header). */
  AudioWav: 'audio/x-wav',
  /** TTS `ssml` message. */
  Ssml: 'application/ssml+xml',
  /** TTS text streaming (`text.piece`, `text.end`). */
  TextPlain: 'text/plain',
} as const;

/**
 * Query parameter names used by the SDKs on the upgrade URL (spec §A.2, §A.11, §B.1, §1.4). Unknown parameters must
 * be ignored. Values given here are the exact, case-sensitive spellings the SDKs emit.
 */
export const QueryParam = {
  Language: 'language',
  Format: 'format',
  Profanity: 'profanity',
  /** Custom-speech endpoint id; replaces `language` in JS. */
  CustomSpeechDeploymentId: 'cid',
  /** Custom-voice endpoint id (TTS). */
  CustomVoiceDeploymentId: 'deploymentId',
  InitialSilenceTimeoutMs: 'initialSilenceTimeoutMs',
  EndSilenceTimeoutMs: 'endSilenceTimeoutMs',
  SegmentationSilenceTimeoutMs: 'segmentationSilenceTimeoutMs',
  SegmentationMaximumTimeMs: 'segmentationMaximumTimeMs',
  SegmentationStrategy: 'segmentationStrategy',
  StableIntermediateThreshold: 'stableIntermediateThreshold',
  WordLevelTimestamps: 'wordLevelTimestamps',
  WordLevelConfidence: 'wordLevelConfidence',
  StoreAudio: 'storeAudio',
  Postprocessing: 'postprocessing',
  LidEnabled: 'lidEnabled',
  /** Credential duplicated into the query by JS (mandatory for browsers / Node ≥ 22). */
  SubscriptionKey: 'Ocp-Apim-Subscription-Key',
  /** `Bearer <token>` (older JS: the bare token). */
  Authorization: 'Authorization',
  ConnectionId: 'X-ConnectionId',
  /** Duplicate of `X-ConnectionId` that JS adds on STT URLs. */
  ConnectionIdAlt: 'connectionId',
  // Translation (spec §A.11).
  From: 'from',
  To: 'to',
  Scenario: 'scenario',
  Voice: 'voice',
  Features: 'features',
  StableTranslation: 'stableTranslation',
  // Special scenarios the service ignores.
  TestHooks: 'testhooks',
  BotId: 'botid',
  MeetingId: 'meetingId',
  DeviceId: 'deviceId',
  IsParticipant: 'isParticipant',
  EnableBotMessageStatus: 'enableBotMessageStatus',
  EnableTalkingAvatar: 'enableTalkingAvatar',
  /** JS `fromEndpoint` redirect probe marker (spec §1.4). */
  GenerateRedirectResponse: 'GenerateRedirectResponse',
} as const;

/** A known query parameter name. */
export type QueryParam = (typeof QueryParam)[keyof typeof QueryParam];

/**
 * Case-insensitive path comparison. Paths are dispatched case-insensitively by the SDKs (JS lower-cases them), and the
 * decoder keeps the client's spelling verbatim, so compare through this rather than with `===`.
 *
 * @param actual - the path as received (e.g. `SpeechMessage.path`)
 * @param expected - a constant such as `ClientPath.SpeechContext`
 */
export function pathMatches(actual: string, expected: string): boolean {
  return actual.length === expected.length && actual.toLowerCase() === expected.toLowerCase();
}
