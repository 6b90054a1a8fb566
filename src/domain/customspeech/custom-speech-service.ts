import { apiTimestamp } from './common.js';
import { newUuid } from '../../kernel/ids.js';
import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../errors.js';
import { VersionConflictError, type SpeechEntityRepository } from '../ports/repositories.js';
import { emitSpeechEvent, type SpeechEventSink } from '../ports/speech-events.js';
import { baseModelCatalog, type BaseModel } from './base-models.js';
import { customPropertiesProblem, type Endpoint, type ModelRef, type Project } from './entities.js';

export interface ProjectInput {
  displayName: string;
  description?: string;
  locale: string;
  customProperties?: Record<string, string>;
}

export interface EndpointInput extends ProjectInput {
  projectId?: string;
  model: ModelRef;
  loggingEnabled: boolean;
  timeToLive?: string;
}

export interface EndpointChanges {
  displayName?: string;
  description?: string;
  customProperties?: Record<string, string>;
  projectId?: string;
  model?: ModelRef;
  loggingEnabled?: boolean;
}

/** Loads what an endpoint serves into the engine (a base model needs nothing). */
export interface ModelDeployer {
  deploy(model: ModelRef): Promise<void>;
}

/** What recognition asks about a `cid`: whose endpoint it is, and the model traffic uses now. */
export interface EndpointRoute {
  accountId: string;
  /** F0 endpoints stop at this time (ms since the epoch). */
  expiresAtMs?: number;
  /** Undefined until the endpoint's first deployment has succeeded. */
  activeModel?: ModelRef;
  locale: string;
  loggingEnabled: boolean;
}

/** Seed 003: "Endpoints used by F0 Speech resources are deleted after seven days." */
export const F0_ENDPOINT_LIFETIME_MS = 7 * 24 * 3600_000;

/** How often endpoint routes are re-read from the database (other processes' changes). */
const ROUTES_TTL_MS = 5_000;

/**
 * Projects, base models and endpoints (protocol §D.5, seed 003), and the deployment of an endpoint's
 * model: NotStarted → Running → Succeeded (or Failed). A model change keeps traffic on the old model
 * until the new one is loaded, so no request fails in between.
 */
export class CustomSpeechService {
  readonly baseModels: BaseModel[];
  private routes = new Map<string, EndpointRoute>();
  private routesLoadedAt = -Infinity;
  private readonly deployments = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: SpeechEntityRepository,
    private readonly deployer: ModelDeployer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    engine: { id: string; locales: readonly string[] },
    /** Told of endpoint creation, processing, completion and deletion (web hooks). */
    private readonly events?: SpeechEventSink,
    /** The pricing tier of an account (F0 endpoints expire after seven days). */
    private readonly accountSku: (accountId: string) => Promise<'F0' | 'S0' | undefined> = async () => undefined,
  ) {
    this.baseModels = baseModelCatalog(engine, '2024-01-01T00:00:00Z');
  }

  private now(): string {
    return apiTimestamp(this.clock.now());
  }

  // --- projects -------------------------------------------------------------------------------------

  async createProject(accountId: string, input: ProjectInput): Promise<Project> {
    this.validateCommon(input);
    const at = this.now();
    const project: Project = { kind: 'project', id: newUuid(), accountId, ...common(input), createdAt: at, lastActionAt: at };
    await this.repo.insert(project);
    return project;
  }

  async getProject(accountId: string, id: string): Promise<Project> {
    const found = await this.repo.get(accountId, 'project', id);
    if (!found) throw Errors.notFound(`Project ${id} was not found.`);
    return found.value;
  }

  listProjects(accountId: string): Promise<Project[]> {
    return this.repo.list(accountId, 'project');
  }

  async updateProject(accountId: string, id: string, changes: Partial<Pick<ProjectInput, 'displayName' | 'description' | 'customProperties'>>): Promise<Project> {
    const found = await this.repo.get(accountId, 'project', id);
    if (!found) throw Errors.notFound(`Project ${id} was not found.`);
    const next: Project = { ...found.value, ...defined(changes), lastActionAt: this.now() };
    this.validateCommon(next);
    await this.save(next, found.version);
    return next;
  }

  async deleteProject(accountId: string, id: string): Promise<void> {
    // Entities keep working without their project; their reference is dropped, as Azure does.
    for (const e of await this.repo.list(accountId, 'endpoint')) {
      if (e.projectId === id) {
        const found = await this.repo.get(accountId, 'endpoint', e.id);
        if (found) {
          const { projectId: _dropped, ...rest } = found.value;
          await this.save({ ...rest }, found.version);
        }
      }
    }
    await this.repo.delete(accountId, 'project', id);
  }

  // --- base models ----------------------------------------------------------------------------------

  getBaseModel(id: string): BaseModel {
    const m = this.baseModels.find((b) => b.id === id.toLowerCase());
    if (!m) throw Errors.notFound(`Base model ${id} was not found.`);
    return m;
  }

  // --- endpoints ------------------------------------------------------------------------------------

  async createEndpoint(accountId: string, input: EndpointInput): Promise<Endpoint> {
    this.validateCommon(input);
    if (input.projectId !== undefined) await this.getProject(accountId, input.projectId);
    await this.assertModelFor(accountId, input.model, input.locale);
    const at = this.now();
    const endpoint: Endpoint = {
      kind: 'endpoint',
      id: newUuid(),
      accountId,
      ...common(input),
      ...(input.projectId !== undefined ? { projectId: input.projectId } : {}),
      status: 'NotStarted',
      model: input.model,
      loggingEnabled: input.loggingEnabled,
      ...(input.timeToLive !== undefined ? { timeToLive: input.timeToLive } : {}),
      ...((await this.accountSku(accountId)) === 'F0' ? { expiresAt: new Date(this.clock.now() + F0_ENDPOINT_LIFETIME_MS).toISOString() } : {}),
      createdAt: at,
      lastActionAt: at,
    };
    await this.repo.insert(endpoint);
    emitSpeechEvent(this.events, 'EndpointCreation', endpoint);
    this.setRoute(endpoint);
    this.scheduleDeployment(accountId, endpoint.id);
    return endpoint;
  }

  async getEndpoint(accountId: string, id: string): Promise<Endpoint> {
    await this.deleteExpired(accountId);
    const found = await this.repo.get(accountId, 'endpoint', id);
    if (!found) throw Errors.notFound(`Endpoint ${id} was not found.`);
    return found.value;
  }

  async listEndpoints(accountId: string): Promise<Endpoint[]> {
    await this.deleteExpired(accountId);
    return this.repo.list(accountId, 'endpoint');
  }

  /** F0 endpoints past their seven days are deleted (lazily, on the clock the service is given). */
  async deleteExpired(accountId?: string): Promise<void> {
    const now = this.clock.now();
    const all = accountId === undefined ? await this.repo.listAll('endpoint') : await this.repo.list(accountId, 'endpoint');
    for (const e of all) {
      if (e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now) {
        this.logger.info({ endpoint: e.id }, 'F0 endpoint expired after seven days; deleting it');
        await this.deleteEndpoint(e.accountId, e.id);
      }
    }
  }

  async updateEndpoint(accountId: string, id: string, changes: EndpointChanges): Promise<Endpoint> {
    await this.deleteExpired(accountId);
    const found = await this.repo.get(accountId, 'endpoint', id);
    if (!found) throw Errors.notFound(`Endpoint ${id} was not found.`);
    const current = found.value;
    if (changes.projectId !== undefined) await this.getProject(accountId, changes.projectId);
    if (changes.model !== undefined) await this.assertModelFor(accountId, changes.model, current.locale);
    const modelChanged = changes.model !== undefined && !sameModel(changes.model, current.model);
    const { model, ...rest } = defined(changes);
    const next: Endpoint = {
      ...current,
      ...rest,
      ...(model !== undefined ? { model } : {}),
      // A new model is deployed again; the old one keeps serving meanwhile (activeModel unchanged).
      ...(modelChanged ? { status: 'NotStarted' as const } : {}),
      lastActionAt: this.now(),
    };
    if (modelChanged) delete next.error;
    this.validateCommon(next);
    await this.save(next, found.version);
    this.setRoute(next);
    if (modelChanged) this.scheduleDeployment(accountId, id);
    return next;
  }

  async deleteEndpoint(accountId: string, id: string): Promise<void> {
    const found = this.events ? await this.repo.get(accountId, 'endpoint', id) : undefined;
    await this.repo.delete(accountId, 'endpoint', id);
    if (found) emitSpeechEvent(this.events, 'EndpointDeletion', found.value);
    this.routes.delete(id.toLowerCase());
  }

  /**
   * The endpoint a recognition request names with `cid`, if it belongs to `accountId`. Synchronous
   * (recognition resolves options without I/O): served from routes kept current by this process's
   * changes and reloaded every few seconds for other processes'.
   */
  endpointRoute(accountId: string, endpointId: string): EndpointRoute | undefined {
    const r = this.routes.get(endpointId.toLowerCase());
    if (!r || r.accountId !== accountId) return undefined;
    if (r.expiresAtMs !== undefined && r.expiresAtMs <= this.clock.now()) {
      void this.deleteExpired(accountId).catch((err: unknown) => this.logger.warn({ err }, 'expired endpoint deletion failed'));
      return undefined;
    }
    return r;
  }

  /** Reloads routes from the database when they are older than the TTL (call from a timer or per request). */
  async refreshRoutes(force = false): Promise<void> {
    if (!force && this.clock.now() - this.routesLoadedAt < ROUTES_TTL_MS) return;
    this.routesLoadedAt = this.clock.now();
    const next = new Map<string, EndpointRoute>();
    for (const e of await this.repo.listAll('endpoint')) next.set(e.id.toLowerCase(), routeOf(e));
    this.routes = next;
  }

  /** After a restart: load every deployed model again, and finish deployments that were under way. */
  async resume(): Promise<void> {
    await this.refreshRoutes(true);
    for (const e of await this.repo.listAll('endpoint')) {
      if (e.activeModel) {
        try {
          await this.deployer.deploy(e.activeModel);
        } catch (err) {
          this.logger.error({ err, endpoint: e.id }, 'cannot load the model of a deployed endpoint');
        }
      }
      if (e.status === 'NotStarted' || e.status === 'Running') this.scheduleDeployment(e.accountId, e.id);
    }
  }

  /** Resolves when the endpoint's pending deployment (if any) has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.deployments.values()]);
  }

  private scheduleDeployment(accountId: string, id: string): void {
    const key = id.toLowerCase();
    const previous = this.deployments.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.deploy(accountId, id)).catch((err: unknown) => this.logger.error({ err, endpoint: id }, 'deployment failed'));
    this.deployments.set(key, next);
    void next.finally(() => {
      if (this.deployments.get(key) === next) this.deployments.delete(key);
    });
  }

  private async deploy(accountId: string, id: string): Promise<void> {
    // Let the create/update response go out with NotStarted first, as Azure's does.
    await new Promise((r) => setImmediate(r));
    const found = await this.repo.get(accountId, 'endpoint', id);
    if (!found || found.value.status === 'Succeeded' || found.value.status === 'Failed') return;
    const target = found.value.model;
    const running: Endpoint = { ...found.value, status: 'Running', lastActionAt: this.now() };
    const version = await this.save(running, found.version);
    emitSpeechEvent(this.events, 'EndpointProcessing', running);
    let outcome: Endpoint;
    try {
      await this.deployer.deploy(target);
      outcome = { ...running, status: 'Succeeded', activeModel: target, lastActionAt: this.now() };
    } catch (err) {
      this.logger.warn({ err, endpoint: id }, 'model deployment failed');
      outcome = { ...running, status: 'Failed', error: { code: 'ModelDeploymentFailed', message: err instanceof Error ? err.message : String(err) }, lastActionAt: this.now() };
    }
    // The endpoint may have been changed or deleted while loading; only a still-current target is applied.
    const latest = await this.repo.get(accountId, 'endpoint', id);
    if (!latest) return;
    if (latest.version !== version && !sameModel(latest.value.model, target)) return;
    const merged: Endpoint = { ...latest.value, status: outcome.status, lastActionAt: outcome.lastActionAt };
    if (outcome.activeModel) merged.activeModel = outcome.activeModel;
    if (outcome.error) merged.error = outcome.error;
    await this.save(merged, latest.version);
    emitSpeechEvent(this.events, 'EndpointCompletion', merged);
    this.setRoute(merged);
  }

  private setRoute(e: Endpoint): void {
    this.routes.set(e.id.toLowerCase(), routeOf(e));
  }

  private async assertModelFor(accountId: string, model: ModelRef, locale: string): Promise<void> {
    if (model.kind === 'custom') {
      const found = await this.repo.get(accountId, 'model', model.id);
      if (!found) throw Errors.invalidArgument(`The model ${model.id} does not exist.`, { innerCode: 'InvalidModel' });
      if (found.value.status !== 'Succeeded') throw Errors.invalidArgument(`The model ${model.id} is ${found.value.status}; only a trained model can be deployed.`, { innerCode: 'InvalidModel' });
      if (found.value.locale.toLowerCase() !== locale.toLowerCase()) {
        throw Errors.invalidArgument(`The locale of the endpoint (${locale}) must match the locale of the model (${found.value.locale}).`, { innerCode: 'InvalidLocale' });
      }
      return;
    }
    if (model.kind === 'base') {
      const base = this.baseModels.find((b) => b.id === model.id.toLowerCase());
      if (!base) throw Errors.invalidArgument(`The model ${model.id} does not exist.`, { innerCode: 'InvalidModel' });
      if (base.locale.toLowerCase() !== locale.toLowerCase()) {
        throw Errors.invalidArgument(`The locale of the endpoint (${locale}) must match the locale of the model (${base.locale}).`, { innerCode: 'InvalidLocale' });
      }
      return;
    }
  }

  /** Whether an endpoint of the account serves or is about to serve the custom model. */
  async modelInUse(accountId: string, modelId: string): Promise<boolean> {
    const id = modelId.toLowerCase();
    return (await this.repo.list(accountId, 'endpoint')).some((e) => (e.model.kind === 'custom' && e.model.id === id) || (e.activeModel?.kind === 'custom' && e.activeModel.id === id));
  }

  private validateCommon(e: { displayName: string; locale: string; customProperties?: Record<string, string> | undefined }): void {
    if (typeof e.displayName !== 'string' || e.displayName.trim() === '' || e.displayName.length > 512) {
      throw Errors.invalidArgument('displayName is required (1 to 512 characters).', { innerCode: 'InvalidParameterValue' });
    }
    if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i.test(e.locale)) throw Errors.invalidArgument(`Invalid locale '${e.locale}'.`, { innerCode: 'InvalidLocale' });
    const problem = customPropertiesProblem(e.customProperties);
    if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
  }

  private async save(e: Project | Endpoint, version: number): Promise<number> {
    try {
      return await this.repo.update(e, version);
    } catch (err) {
      if (err instanceof VersionConflictError) throw Errors.conflict(err.message);
      throw err;
    }
  }
}

function common(input: ProjectInput): Pick<Project, 'displayName' | 'description' | 'locale' | 'customProperties'> {
  return {
    displayName: input.displayName,
    locale: input.locale,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.customProperties !== undefined ? { customProperties: input.customProperties } : {}),
  };
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function sameModel(a: ModelRef, b: ModelRef): boolean {
  return a.kind === b.kind && a.id.toLowerCase() === b.id.toLowerCase();
}

function routeOf(e: Endpoint): EndpointRoute {
  return {
    accountId: e.accountId,
    locale: e.locale,
    loggingEnabled: e.loggingEnabled,
    ...(e.activeModel ? { activeModel: e.activeModel } : {}),
    ...(e.expiresAt !== undefined ? { expiresAtMs: Date.parse(e.expiresAt) } : {}),
  };
}
