import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Kysely } from 'kysely';
import pino, { type DestinationStream } from 'pino';
import type { Config } from './config/schema.js';
import { systemClock, type Clock } from './kernel/time.js';
import type { Logger } from './kernel/logger.js';
import type { CompressedAudioDecoder } from './domain/ports/audio.js';
import type { SttEngine } from './domain/ports/engines.js';
import { AccountService } from './domain/resources/account-service.js';
import type { Account } from './domain/resources/account.js';
import { AuthService, BearerTokenAuthenticator, SubscriptionKeyAuthenticator } from './domain/auth/auth-service.js';
import { TokenService } from './domain/auth/token-service.js';
import { AccessService } from './domain/resources/access-service.js';
import { NetworkService } from './domain/resources/network-service.js';
import type { DnsView } from './domain/resources/dns-answers.js';
import { accountArmId } from './domain/resources/account.js';
import { ExtraListeners } from './protocol/http/extra-listeners.js';
import { tokenRoutes } from './protocol/token/routes.js';
import { adminRoutes } from './protocol/admin/routes.js';
import { startDnsServer } from './protocol/dns/server.js';
import { startTlsListener } from './protocol/http/tls-listener.js';
import { DEFAULT_TLS_IPS, defaultTlsNames, loadTlsMaterial } from './security/local-ca.js';
import { JoseTokenSigner, loadOrCreateSigningSecret } from './security/jose-token-signer.js';
import { loadOrCreateAdminToken } from './security/admin-token.js';
import { SqlNetworkRepository } from './storage/sql/network-repository.js';
import { SqlSpeechEntityRepository } from './storage/sql/speech-entity-repository.js';
import { CustomSpeechService, type ModelDeployer } from './domain/customspeech/custom-speech-service.js';
import { ModelService } from './domain/customspeech/model-service.js';
import { EndpointLogService } from './domain/customspeech/endpoint-logs.js';
import { FileBlobStore } from './storage/blobs/file-blob-store.js';
import { sttV32Routes } from './protocol/stt-v32/routes.js';
import { DatasetService } from './domain/customspeech/dataset-service.js';
import { datasetRoutes } from './protocol/stt-v32/datasets.js';
import { EvaluationService, recognitionTranscriber } from './domain/customspeech/evaluation-service.js';
import { evaluationRoutes, evaluationView } from './protocol/stt-v32/evaluations.js';
import { downloadRoutes, signedDownloadUrl } from './protocol/stt-v32/downloads.js';
import { HmacDownloadSigner } from './security/download-signer.js';
import { UrlContentFetcher } from './storage/blobs/url-fetcher.js';
import { ZipArchiveReader } from './storage/blobs/zip-archive-reader.js';
import { RecognitionService } from './domain/recognition/recognition-service.js';
import { applyDataPlane } from './protocol/http/data-plane.js';
import { healthRoutes } from './protocol/health/routes.js';
import { sttShortRoutes } from './protocol/stt-short/routes.js';
import { SessionRegistry, speechWsRoutes } from './protocol/speech-ws/routes.js';
import { PocketSphinxEngine } from './engines/pocketsphinx/index.js';
import { FfmpegAudioDecoder } from './engines/ffmpeg/index.js';
import { FfmpegAudioEncoder } from './engines/ffmpeg/encoder.js';
import { FliteEngine } from './engines/flite/index.js';
import { FliteLetterToSound } from './engines/flite/lts.js';
import { EspeakNgEngine } from './engines/espeak-ng/index.js';
import { FestivalEngine } from './engines/festival/index.js';
import type { TtsEngine } from './domain/ports/engines.js';
import { SynthesisService } from './domain/synthesis/synthesis-service.js';
import { ttsRestRoutes } from './protocol/tts-rest/routes.js';
import { FakeSttEngine } from './engines/fake/index.js';
import { openSqlite } from './storage/sqlite/open.js';
import { SqlAccountRepository } from './storage/sql/account-repository.js';
import { SqlQuotaLedger, SqlUsageStore } from './storage/sql/quota-ledger.js';
import { QuotaService } from './domain/quota/quota-service.js';
import type { Database } from './storage/sql/schema.js';
import { loggerOptions } from './observability/logging.js';
import { WebHookService } from './domain/customspeech/webhook-service.js';
import { FetchWebhookTransport } from './storage/blobs/webhook-transport.js';
import { webhookRoutes } from './protocol/stt-v32/webhooks.js';
import { webhookPayloads } from './protocol/stt-v32/webhook-delivery.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What tests and the CLI may substitute; everything else comes from config. */
export interface AppOverrides {
  sttEngine?: SttEngine;
  ttsEngines?: TtsEngine[];
  clock?: Clock;
  /** Where log lines go (tests capture them to check redaction). */
  logStream?: DestinationStream;
  /** Waits before each retry of a failed web hook delivery (default 1, 2, 4, 8, 16 s). */
  webhookRetryDelaysMs?: readonly number[];
}

export interface ParlanceApp {
  http: FastifyInstance;
  config: Config;
  defaultAccount: Account;
  /** Bearer token of the control plane (ARM-shaped admin API). */
  adminToken: string;
  /**
   * Listens on host:port, then on every private endpoint's address (following control-plane
   * changes), and starts the DNS server when configured. Returns the main URL.
   */
  listen(opts?: { host?: string; port?: number }): Promise<{ url: string; port: number; dnsPort?: number; tlsPort?: number }>;
  /** Stops admitting, lets open turns finish (bounded), closes sockets, engines and the database. */
  close(): Promise<void>;
}

/**
 * The composition root: the only place that picks implementations (engines, storage) and wires the
 * request pipeline. Read top to bottom: storage → domain services → engines → HTTP surfaces.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<ParlanceApp> {
  const logger: FastifyBaseLogger = pino(loggerOptions(config.logLevel), overrides.logStream);
  const clock = overrides.clock ?? systemClock;

  // Storage
  const db: Kysely<Database> = await openSqlite(config.dataDir);

  // Domain services
  const accountRepo = new SqlAccountRepository(db);
  const network = new NetworkService(new SqlNetworkRepository(db, () => new Date(clock.now()).toISOString()), accountRepo, clock);
  const accounts = new AccountService(accountRepo, clock, () => network.snapshot());
  const defaultAccount = await accounts.ensureDefaultAccount(config.region, config.key);
  const tokens = new TokenService(new JoseTokenSigner(await loadOrCreateSigningSecret(config.dataDir)), clock);
  const auth = new AuthService([new SubscriptionKeyAuthenticator(accounts), new BearerTokenAuthenticator(accounts, tokens)]);
  const suffixes = {
    speechSuffix: config.network.speechSuffix,
    apiSuffix: config.network.apiSuffix,
    customDomainSuffix: config.network.customDomainSuffix,
  };
  const access = new AccessService(accounts, auth, () => network.snapshot(), suffixes);
  const adminToken = await loadOrCreateAdminToken(config.dataDir, config.adminToken);
  // Pricing tiers: concurrency and call-rate leases and usage counters live in the database, so every
  // process sharing it enforces the same limits (docs/adr/0002).
  const quotas = new QuotaService({ ledger: new SqlQuotaLedger(db), usage: new SqlUsageStore(db), clock, logger });

  // Engines
  const engine = overrides.sttEngine ?? createSttEngine(config, logger);
  const decoder: CompressedAudioDecoder = new FfmpegAudioDecoder({ ffmpegPath: config.engines.ffmpegPath, logger });
  const ttsEngines = overrides.ttsEngines ?? createTtsEngines(config);
  let ready = false;
  const engineReady = Promise.all([engine.ready(), ...ttsEngines.map((e) => e.ready())]).then(() => {
    ready = true;
  });
  // Custom Speech: endpoints deploy base models (nothing to load) or trained custom models.
  const blobs = new FileBlobStore(config.dataDir);
  const speechEntities = new SqlSpeechEntityRepository(db);
  let models: ModelService | undefined;
  const deployer: ModelDeployer = {
    async deploy(model) {
      if (model.kind === 'custom' && models) await engine.loadCustomModel(model.id, models.modelDir(model.id));
    },
  };
  // Web hooks (protocol §D.7): the services below report their entities' state changes to it.
  const webhooks = new WebHookService({
    repo: speechEntities,
    transport: new FetchWebhookTransport(),
    render: webhookPayloads(suffixes, { evaluation: (e, u) => (e.kind === 'evaluation' ? evaluationView(e, u) : {}) }),
    clock,
    logger,
    ...(overrides.webhookRetryDelaysMs ? { retryDelaysMs: overrides.webhookRetryDelaysMs } : {}),
  });
  const customSpeech = new CustomSpeechService(speechEntities, deployer, clock, logger, engine.info, webhooks, async (id) => (await accounts.getById(id))?.sku);
  const downloadSigner = new HmacDownloadSigner(await loadOrCreateSigningSecret(config.dataDir));
  const datasets = new DatasetService({
    repo: speechEntities,
    blobs,
    fetcher: new UrlContentFetcher(),
    archives: new ZipArchiveReader(blobs),
    clock,
    logger,
    locales: customSpeech.baseModels.map((m) => m.locale),
    events: webhooks,
  });
  models = new ModelService(
    speechEntities,
    engine,
    blobs,
    customSpeech.baseModels,
    async (accountId, datasetId, locale) => {
      const data = await datasets.readForTraining(accountId, datasetId, locale);
      if (data.kind === 'Language') return { sentences: data.sentences, pronunciations: [] };
      // Pronunciation datasets: the engine turns spoken forms into phones; the written forms also join
      // the training text so the language model knows the words.
      return {
        sentences: data.pronunciations.map((p) => p.displayForm),
        pronunciations: [],
        spokenForms: data.pronunciations.map((p) => ({ word: p.displayForm, spoken: p.spokenForm })),
      };
    },
    clock,
    logger,
    webhooks,
  );
  const endpointLogs = new EndpointLogService(speechEntities, blobs, clock);
  const recognition = new RecognitionService(engine, decoder, config.recognition, logger, (accountId, endpointId) => {
    const route = customSpeech.endpointRoute(accountId, endpointId);
    if (!route) return undefined;
    const active = route.activeModel;
    return {
      locale: route.locale,
      loggingEnabled: route.loggingEnabled,
      ...(active ? { model: active.kind === 'custom' ? { locale: route.locale, modelId: active.id } : { locale: route.locale } } : {}),
    };
  }, { sink: endpointLogs, clock });
  // Evaluations: two models decode an Acoustic dataset through the recognition pipeline.
  const evaluations = new EvaluationService({
    repo: speechEntities,
    blobs,
    archives: new ZipArchiveReader(blobs),
    baseModels: customSpeech.baseModels,
    transcribe: recognitionTranscriber(recognition),
    loadCustomModel: (id) => engine.loadCustomModel(id, (models as ModelService).modelDir(id)),
    clock,
    logger,
    datasetLimits: datasets.limits,
    events: webhooks,
  });
  const synthesis = new SynthesisService(
    ttsEngines,
    new FfmpegAudioEncoder({ ffmpegPath: config.engines.ffmpegPath, logger }),
    { maxAudioMs: config.tts.maxAudioSeconds * 1000, maxSsmlBytes: config.tts.maxSsmlBytes, maxVoiceElements: config.tts.maxVoiceElements },
    logger,
    { aliases: config.tts.voiceAliases },
  );

  // HTTP and WebSocket surfaces
  const http = Fastify({
    loggerInstance: logger,
    requestTimeout: config.limits.requestTimeoutMs,
    connectionTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: 10_000,
    bodyLimit: config.limits.restMaxBodyBytes,
    forceCloseConnections: true,
    trustProxy: config.network.trustProxy,
    // Signed download tokens name the blob (endpoint logs: ~150 characters); the default is 100.
    routerOptions: { maxParamLength: 512 },
  });
  await http.register(websocket, {
    options: {
      maxPayload: config.limits.wsMaxPayloadBytes,
      // The C++ SDKs offer the "USP" subprotocol and expect it echoed (protocol §A.3).
      handleProtocols: (protocols: Set<string>) => (protocols.has('USP') ? 'USP' : false),
    },
  });
  const sessions = new SessionRegistry(config.limits.maxSessions);

  await http.register(async (scope) => healthRoutes(scope, { version: VERSION, auth, isReady: () => ready }));
  await http.register(adminRoutes, { accounts, network, quotas, adminToken, suffixes });
  await http.register(downloadRoutes, { signer: downloadSigner, blobs, clock });
  await http.register(async (scope) => {
    applyDataPlane(scope, { access, quotas });
    await scope.register(tokenRoutes, { tokens });
    await scope.register(sttV32Routes, { customSpeech, models, endpointLogs, suffixes, downloadUrl: signedDownloadUrl(downloadSigner, clock),
      projectDatasets: {
        count: async (a, projectId) => (await datasets.listByProject(a, projectId)).length,
        detach: (a, projectId) => datasets.detachProject(a, projectId),
      },
      projectEvaluations: {
        count: async (a, projectId) => (await evaluations.listByProject(a, projectId)).length,
        detach: (a, projectId) => evaluations.detachProject(a, projectId),
      },
    });
    await scope.register(datasetRoutes, { datasets, suffixes, signer: downloadSigner, clock });
    await scope.register(evaluationRoutes, { evaluations, suffixes, signer: downloadSigner, clock });
    await scope.register(webhookRoutes, { webhooks, suffixes });
    await scope.register(sttShortRoutes, {
      recognition,
      maxAudioSeconds: config.limits.restMaxAudioSeconds,
      maxBodyBytes: config.limits.restMaxBodyBytes,
      requestTimeoutMs: config.limits.requestTimeoutMs,
    });
    await scope.register(ttsRestRoutes, {
      synthesis,
      maxSsmlBytes: config.tts.maxSsmlBytes,
      requestTimeoutMs: config.limits.requestTimeoutMs,
    });
    await scope.register(speechWsRoutes, {
      recognition,
      synthesis,
      sessions,
      quotas,
      maxTurnAudioMs: config.limits.maxTurnAudioSeconds * 1000,
      interactiveMaxAudioMs: config.limits.interactiveMaxAudioSeconds * 1000,
      maxConnectionMs: config.limits.maxConnectionSeconds * 1000,
      idleTimeoutMs: config.limits.wsIdleTimeoutMs,
    });
  });

  await engineReady;
  await models.resume();
  await customSpeech.resume();
  await datasets.resume();
  await evaluations.resume();
  // Other processes sharing the database change endpoints too.
  const routesTimer = setInterval(() => void customSpeech.refreshRoutes().catch((err: unknown) => logger.warn({ err }, 'endpoint routes refresh failed')), 5_000);
  routesTimer.unref();

  const extra = new ExtraListeners(http.server, logger);
  let dns: { port: number; close(): Promise<void> } | undefined;
  let tls: { port: number; close(): Promise<void> } | undefined;
  let unsubscribe: (() => void) | undefined;
  const dnsView = async (): Promise<DnsView> => ({
    accounts: (await accounts.list()).map((a) => ({
      name: a.name,
      region: a.region,
      armId: accountArmId(a),
      ...(a.customSubDomainName !== undefined ? { customSubDomainName: a.customSubDomainName } : {}),
    })),
    snapshot: await network.snapshot(),
    suffixes,
    publicAddress: config.network.publicAddress,
  });

  let closing: Promise<void> | undefined;
  return {
    http,
    config,
    defaultAccount,
    adminToken,
    async listen(opts = {}) {
      const address = await http.listen({ host: opts.host ?? config.host, port: opts.port ?? config.port });
      const port = new URL(address).port ? Number(new URL(address).port) : 80;
      const follow = (s: { privateEndpoints: readonly { privateIp: string }[] }): void => void extra.reconcile(s.privateEndpoints.map((e) => e.privateIp));
      unsubscribe = network.onChange(follow);
      await extra.reconcile((await network.reload()).privateEndpoints.map((e) => e.privateIp));
      if (config.dns.port !== undefined) {
        dns = await startDnsServer({ host: config.dns.host, port: config.dns.port, view: dnsView, logger });
      }
      if (config.tls.port !== undefined) {
        const material = await loadTlsMaterial(config.dataDir, {
          names: config.tls.names.length > 0 ? config.tls.names : defaultTlsNames(suffixes),
          ips: config.tls.ips.length > 0 ? config.tls.ips : [...DEFAULT_TLS_IPS, ...(isIP(config.network.publicAddress) ? [config.network.publicAddress] : [])],
        });
        tls = await startTlsListener(http.server, {
          host: config.tls.host ?? opts.host ?? config.host,
          port: config.tls.port,
          certPem: material.certPem,
          keyPem: material.keyPem,
          logger,
        });
      }
      return { url: address, port, ...(dns ? { dnsPort: dns.port } : {}), ...(tls ? { tlsPort: tls.port } : {}) };
    },
    close() {
      closing ??= (async () => {
        unsubscribe?.();
        clearInterval(routesTimer);
        await sessions.drain(config.limits.shutdownGraceMs);
        await tls?.close();
        await dns?.close();
        await extra.close();
        await http.close();
        await quotas.close();
        await datasets.close();
        await evaluations.close();
        await customSpeech.settled();
        await models.settled();
        await webhooks.close();
        await Promise.all([engine.close(), ...ttsEngines.map((e) => e.close())]);
        await db.destroy();
      })();
      return closing;
    },
  };
}

function createTtsEngines(config: Config): TtsEngine[] {
  const engines: TtsEngine[] = [];
  for (const name of config.tts.engines) {
    if (name === 'flite') engines.push(new FliteEngine({ workers: config.tts.fliteWorkers }));
    if (name === 'espeak-ng') engines.push(new EspeakNgEngine({ workers: config.tts.espeakWorkers }));
    if (name === 'festival') engines.push(new FestivalEngine({ processes: config.tts.festivalProcesses }));
  }
  return engines;
}

function createSttEngine(config: Config, logger: Logger): SttEngine {
  if (config.engines.stt === 'fake') return new FakeSttEngine();
  const ps = config.engines.pocketsphinx;
  return new PocketSphinxEngine({
    workers: ps.workers > 0 ? ps.workers : Math.max(1, availableParallelism()),
    liveDecodersPerWorker: ps.liveDecodersPerWorker,
    maxQueuedDecodes: ps.maxQueuedDecodes,
    maxCustomModels: ps.maxCustomModels,
    ...(ps.modelDir ? { modelDir: ps.modelDir } : {}),
    // Words of custom models that cmudict lacks get pronunciations from flite's lexicon and rules.
    letterToSound: new FliteLetterToSound(),
    logger,
  });
}
