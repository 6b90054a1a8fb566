import { requestJson } from './http-json.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION } from '../domain/resources/account-service.js';
import { ADMIN_TOKEN_FILE } from '../security/admin-token.js';

/*
 * What the control-plane commands (`parlance account`, `parlance network`, `parlance private-endpoint`)
 * share: the connection options, the admin token's resolution, ARM paths, one HTTP call, and how a
 * result or an error is printed. Results are the response body as indented JSON on stdout; an ARM
 * error is `parlance: <code>: <message>` on stderr with exit code 1; a usage error exits 2.
 */

/** Usage errors exit 2 (as commander's own parse errors do here), keeping 1 for "ran and failed". */
export const USAGE_EXIT = 2;
export const DEFAULT_URL = 'http://127.0.0.1:5000';

/** api-version sent per provider (the server accepts any value and answers with 2024-10-01 shapes). */
export const API_VERSIONS = {
  cognitiveServices: '2024-10-01',
  network: '2024-05-01',
  privateDns: '2024-06-01',
} as const;
export type ApiVersion = (typeof API_VERSIONS)[keyof typeof API_VERSIONS];

/** Options every control-plane command takes. */
export interface AdminFlags {
  url: string;
  adminToken?: string;
  dataDir?: string;
  subscription: string;
  resourceGroup: string;
}

/** A mistake in how the command was called: printed as is, exit 2. */
export class UsageError extends Error {}

/** An error answered by the control plane: ARM's `{"error":{"code","message"}}`. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Collects a repeatable option; undefined when the option was never given (so "not given" and "empty" differ). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function choice(flags: string, description: string, choices: readonly string[], defaultValue?: string): Option {
  const o = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

/** Adds the connection options to a leaf command. */
export function withAdminOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'server URL', DEFAULT_URL)
    .option('--admin-token <token>', 'control-plane token (else $PARLANCE_ADMIN_TOKEN, else {data dir}/admin-token)')
    .option('--data-dir <dir>', "the server's data directory, to read the admin token from (default $PARLANCE_DATA_DIR or ./data)")
    .option('--subscription <id>', 'subscription id', DEFAULT_SUBSCRIPTION)
    .option('-g, --resource-group <name>', 'resource group', DEFAULT_RESOURCE_GROUP);
}

/**
 * The admin token: --admin-token; else the file in an explicitly given --data-dir; else
 * $PARLANCE_ADMIN_TOKEN; else the file in $PARLANCE_DATA_DIR or ./data. (Flags beat the environment,
 * as in the server's own configuration.)
 */
export async function resolveAdminToken(flags: Pick<AdminFlags, 'adminToken' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (flags.adminToken !== undefined && flags.adminToken !== '') return flags.adminToken;
  const fromEnv = env['PARLANCE_ADMIN_TOKEN'];
  if (flags.dataDir === undefined && fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const file = join(flags.dataDir ?? env['PARLANCE_DATA_DIR'] ?? './data', ADMIN_TOKEN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `no admin token: pass --admin-token, set PARLANCE_ADMIN_TOKEN, or point --data-dir at the server's data directory (${file}: ${code ?? String(err)})`,
    );
  }
  const token = text.trim();
  if (token === '') throw new UsageError(`no admin token: ${file} is empty`);
  return token;
}

const seg = (s: string): string => encodeURIComponent(s);

export class AdminClient {
  readonly base: string;

  constructor(
    base: string,
    private readonly token: string,
    readonly subscription: string,
    readonly resourceGroup: string,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  static async from(flags: AdminFlags): Promise<AdminClient> {
    let url: URL;
    try {
      url = new URL(flags.url);
    } catch {
      throw new UsageError(`--url must be an http(s) URL, got ${flags.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got ${flags.url}`);
    const token = await resolveAdminToken(flags);
    return new AdminClient(`${url.origin}${url.pathname}`, token, flags.subscription, flags.resourceGroup);
  }

  // --- ARM ids and paths (an id is a path: ARM addresses a resource by its id) --------------------------

  groupPath(resourceGroup = this.resourceGroup): string {
    return `/subscriptions/${seg(this.subscription)}/resourceGroups/${seg(resourceGroup)}`;
  }

  accountsPath(resourceGroup?: string): string {
    return `${this.groupPath(resourceGroup)}/providers/Microsoft.CognitiveServices/accounts`;
  }

  accountPath(name: string, resourceGroup?: string): string {
    return `${this.accountsPath(resourceGroup)}/${seg(name)}`;
  }

  networkPath(type: 'virtualNetworks' | 'privateEndpoints' | 'privateDnsZones', name?: string, resourceGroup?: string): string {
    const collection = `${this.groupPath(resourceGroup)}/providers/Microsoft.Network/${type}`;
    return name === undefined ? collection : `${collection}/${seg(name)}`;
  }

  subnetPath(vnet: string, subnet?: string): string {
    const collection = `${this.networkPath('virtualNetworks', vnet)}/subnets`;
    return subnet === undefined ? collection : `${collection}/${seg(subnet)}`;
  }

  /** `vnet/subnet` (in this subscription and group) or a full subnet id. */
  subnetId(ref: string, option = '--subnet'): string {
    if (ref.startsWith('/')) {
      if (!/\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i.test(ref)) {
        throw new UsageError(`${option} must be <vnet>/<subnet> or a subnet id (/subscriptions/…/virtualNetworks/<vnet>/subnets/<subnet>), got ${ref}`);
      }
      return ref;
    }
    const parts = ref.split('/');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`${option} must be <vnet>/<subnet> or a subnet id, got ${ref}`);
    return this.subnetPath(parts[0], parts[1]);
  }

  /** A virtual network by name (in this subscription and group) or by id. */
  vnetId(ref: string, option = '--vnet'): string {
    if (ref.startsWith('/')) return ref;
    if (ref === '' || ref.includes('/')) throw new UsageError(`${option} must be a virtual network name or id, got ${ref}`);
    return this.networkPath('virtualNetworks', ref);
  }

  /** An account by name (in the given group) or by id. */
  accountId(ref: string, resourceGroup?: string): string {
    if (ref.startsWith('/')) return ref;
    if (ref === '' || ref.includes('/')) throw new UsageError(`--account must be an account name or id, got ${ref}`);
    return this.accountPath(ref, resourceGroup);
  }

  // --- HTTP -------------------------------------------------------------------------------------------

  /** One control-plane call: the parsed body (undefined when empty), or an ArmError. */
  async call(method: string, path: string, apiVersion: ApiVersion, body?: unknown): Promise<unknown> {
    const url = `${this.base}${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = await requestJson(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }, this.base, (st, code, message) => new ArmError(st, code, message));
    if (!answer.ok) {
      const e = (answer.parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof e?.code === 'string' ? e.code : `HTTP${answer.status}`;
      const message = typeof e?.message === 'string' ? e.message : answer.text.trim() || answer.statusText;
      throw new ArmError(answer.status, code, message);
    }
    return answer.parsed;
  }

  get(path: string, v: ApiVersion): Promise<unknown> {
    return this.call('GET', path, v);
  }
  put(path: string, v: ApiVersion, body: unknown): Promise<unknown> {
    return this.call('PUT', path, v, body);
  }
  patch(path: string, v: ApiVersion, body: unknown): Promise<unknown> {
    return this.call('PATCH', path, v, body);
  }
  post(path: string, v: ApiVersion, body?: unknown): Promise<unknown> {
    return this.call('POST', path, v, body);
  }
  delete(path: string, v: ApiVersion): Promise<unknown> {
    return this.call('DELETE', path, v);
  }
}

/** Where a command writes (process.stdout/stderr, or a buffer in tests). */
export interface Output {
  write(chunk: string): unknown;
}

/**
 * Prints why a command failed and returns its exit code: 2 for usage errors, 1 otherwise; `describe`
 * words the errors its API answered (code and message), anything else prints its message.
 */
export function failureExit(e: unknown, err: Output, describe: (e: unknown) => string | undefined): number {
  if (e instanceof UsageError) {
    err.write(`parlance: ${e.message}\n`);
    return USAGE_EXIT;
  }
  err.write(`parlance: ${describe(e) ?? (e instanceof Error ? e.message : String(e))}\n`);
  return 1;
}

/**
 * Runs one command: builds the client from the flags, prints what `fn` returns (indented JSON;
 * nothing for an empty body, as after a delete), and turns errors into the exit code.
 */
export async function runAdmin(
  flags: AdminFlags,
  fn: (client: AdminClient) => Promise<unknown>,
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  try {
    const client = await AdminClient.from(flags);
    const result = await fn(client);
    if (result !== undefined) out.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (e) {
    return failureExit(e, err, (x) => (x instanceof ArmError ? `${x.code}: ${x.message}` : undefined));
  }
}

/** Sets the exit code from runAdmin; the shape commander's action handlers want. */
export async function act(flags: AdminFlags, fn: (client: AdminClient) => Promise<unknown>): Promise<void> {
  process.exitCode = await runAdmin(flags, fn);
}

/** For a top-level group: its (and its subcommands') parse errors exit 2, help exits 0. */
export function usageExits(cmd: Command): Command {
  return cmd.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : USAGE_EXIT));
}
