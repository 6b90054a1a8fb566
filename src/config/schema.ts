import { Type, type Static } from '@sinclair/typebox';

/**
 * The one configuration schema. Every limit is a value here with a sane default (DEVELOPERS.md:
 * every size, count and duration has a bound). Loaded by load.ts: defaults < file < PARLANCE_* env < flags.
 */
export const ConfigSchema = Type.Object({
  host: Type.String({ default: '127.0.0.1' }),
  /** 5000 like the Azure Speech containers; 0 picks a free port. */
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 5000 }),
  dataDir: Type.String({ default: './data' }),
  /** Azure region the default resource claims to live in. */
  region: Type.String({ default: 'westus', pattern: '^[a-z0-9]+$' }),
  /** key1 of the default resource; generated and persisted when absent. */
  key: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  logLevel: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info' },
  ),
  /** Control-plane bearer token (ARM-shaped admin API); generated once and kept in the data directory when absent. */
  adminToken: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  network: Type.Object(
    {
      /** Regional data-plane hosts are `{region}.{offering}.{speechSuffix}` (offering stt, tts, voice, s2s…). */
      speechSuffix: Type.String({ default: 'speech.microsoft.com' }),
      /** Token service and management REST: `{region}.{apiSuffix}`. */
      apiSuffix: Type.String({ default: 'api.cognitive.microsoft.com' }),
      /** Custom domains are `{customSubDomainName}.{customDomainSuffix}`; the private zone is `privatelink.` + this. */
      customDomainSuffix: Type.String({ default: 'cognitiveservices.azure.com' }),
      /** Honour X-Forwarded-For for the client address (only behind a proxy you run). */
      trustProxy: Type.Boolean({ default: false }),
      /** The address public names resolve to in Parlance's DNS answers (the regional hosts and the VNet proxy). */
      publicAddress: Type.String({ default: '127.0.0.1' }),
    },
    { default: {} },
  ),
  dns: Type.Object(
    {
      /** Authoritative DNS server (UDP and TCP); off unless a port is given (0 picks a free one). */
      port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      host: Type.String({ default: '127.0.0.1' }),
    },
    { default: {} },
  ),
  tls: Type.Object(
    {
      /** HTTPS/WSS with a certificate from the local CA ({dataDir}/tls); off unless a port is given (443 to stand in for Azure; 0 picks a free one). */
      port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      /** Default: the main `host`. */
      host: Type.Optional(Type.String()),
      /** DNS names in the server certificate; [] = the Azure wildcards for network.*Suffix + localhost. */
      names: Type.Array(Type.String(), { default: [], maxItems: 100 }),
      /** IP addresses in the certificate; [] = 127.0.0.1, ::1 and network.publicAddress. */
      ips: Type.Array(Type.String(), { default: [], maxItems: 100 }),
    },
    { default: {} },
  ),
  engines: Type.Object(
    {
      stt: Type.Union([Type.Literal('pocketsphinx'), Type.Literal('fake')], { default: 'pocketsphinx' }),
      pocketsphinx: Type.Object(
        {
          /** Worker threads, each holding decoders; 0 means one per CPU core. */
          workers: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
          liveDecodersPerWorker: Type.Integer({ minimum: 0, maximum: 64, default: 4 }),
          maxQueuedDecodes: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
          /** Custom models loaded at once (each ≈40 MB per decoder); deploying one more fails with a clear error. */
          maxCustomModels: Type.Integer({ minimum: 1, maximum: 1_000, default: 16 }),
          modelDir: Type.Optional(Type.String()),
        },
        { default: {} },
      ),
      ffmpegPath: Type.String({ default: 'ffmpeg' }),
    },
    { default: {} },
  ),
  tts: Type.Object(
    {
      /** Engines to start; a voice of an engine not listed is not offered. */
      engines: Type.Array(Type.Union([Type.Literal('flite'), Type.Literal('festival'), Type.Literal('espeak-ng')]), {
        default: ['flite', 'festival', 'espeak-ng'],
        uniqueItems: true,
      }),
      fliteWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
      festivalProcesses: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
      espeakWorkers: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
      /** Azure voice name → local voice short name or id, over the built-in locale/gender mapping. */
      voiceAliases: Type.Record(Type.String(), Type.String(), { default: {} }),
      /** SSML per request (Azure: 64 KB on the WebSocket API). */
      maxSsmlBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: 64 * 1024 }),
      maxVoiceElements: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
      /** Audio per request (Azure: 10 minutes). */
      maxAudioSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 600 }),
    },
    { default: {} },
  ),
  recognition: Type.Object(
    {
      /** Azure's typical defaults (protocol §A.9). */
      initialSilenceTimeoutMsInteractive: Type.Integer({ minimum: 0, maximum: 120_000, default: 5_000 }),
      initialSilenceTimeoutMsContinuous: Type.Integer({ minimum: 0, maximum: 120_000, default: 15_000 }),
      segmentationSilenceTimeoutMs: Type.Integer({ minimum: 100, maximum: 5_000, default: 500 }),
      /** Forced phrase break (Azure's segmentationForcedTimeoutMs range is 20 s–70 s). */
      maxUtteranceMs: Type.Integer({ minimum: 1_000, maximum: 70_000, default: 20_000 }),
      /** Interval of audio between partial hypotheses. */
      hypothesisIntervalMs: Type.Integer({ minimum: 50, maximum: 5_000, default: 300 }),
    },
    { default: {} },
  ),
  limits: Type.Object(
    {
      /** Largest WebSocket message accepted (the SDK sends 100 ms audio chunks and small JSON). */
      wsMaxPayloadBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
      /** Concurrent WebSocket sessions this process admits before refusing upgrades. */
      maxSessions: Type.Integer({ minimum: 1, maximum: 100_000, default: 64 }),
      /** Audio accepted in one WebSocket turn before it is ended (interactive turns end earlier, at interactiveMaxAudioSeconds). */
      maxTurnAudioSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600, default: 600 }),
      /**
       * Audio of one interactive (single-shot) WebSocket turn: Azure recognizes at most 15 s of it and
       * reports the utterance so far ("RecognizeOnceAsync … until a maximum of 15 seconds of audio is
       * processed"). The REST short-audio limit is restMaxAudioSeconds, not this.
       */
      interactiveMaxAudioSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 15 }),
      /**
       * A recognition WebSocket is closed (1000) once it has carried this much audio or been open this
       * long, as Azure ends connections after 10 minutes; the SDKs reconnect and replay the audio after
       * their last recognized phrase.
       */
      maxConnectionSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 600 }),
      /** Short-audio REST: the service transcribes at most this much audio (protocol §C.1). */
      restMaxAudioSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
      /** Short-audio REST body bound (60 s of 48 kHz stereo float WAV fits). */
      restMaxBodyBytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 32 * 1024 * 1024 }),
      /** A WebSocket with no message for this long is closed as Azure does (5 minutes). */
      wsIdleTimeoutMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 300_000 }),
      /** Time a REST request may take end to end. */
      requestTimeoutMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000, default: 120_000 }),
      /** Time open sessions get to finish on SIGTERM before they are closed. */
      shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 5_000 }),
    },
    { default: {} },
  ),
});

export type Config = Static<typeof ConfigSchema>;
