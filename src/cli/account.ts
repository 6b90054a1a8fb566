import type { Command } from 'commander';
import { API_VERSIONS, UsageError, act, choice, collect, usageExits, withAdminOptions, type AdminClient, type AdminFlags } from './admin-client.js';

const V = API_VERSIONS.cognitiveServices;
const KIND = 'SpeechServices';

interface AccountSettingFlags {
  sku?: string;
  customDomain?: string;
  defaultAction?: 'Allow' | 'Deny';
  ipRule?: string[];
  vnetRule?: string[];
  publicAccess?: 'Enabled' | 'Disabled';
  disableLocalAuth?: boolean;
}

interface CreateFlags extends AdminFlags, AccountSettingFlags {
  location: string;
}

interface UpdateFlags extends AdminFlags, AccountSettingFlags {
  enableLocalAuth?: boolean;
  clearIpRules?: boolean;
  clearVnetRules?: boolean;
}

interface RegenerateFlags extends AdminFlags {
  key: 'key1' | 'key2';
}

interface ListFlags extends AdminFlags {
  allGroups?: boolean;
}

interface NetworkAclsBody {
  defaultAction: string;
  bypass?: string;
  ipRules: { value: string }[];
  virtualNetworkRules: { id: string; ignoreMissingVnetServiceEndpoint?: boolean }[];
}

interface AccountResource {
  properties?: { networkAcls?: NetworkAclsBody };
}

/** The settings both create and update take. */
function settingOptions(cmd: Command, forCreate: boolean): Command {
  return cmd
    .addOption(choice('--sku <sku>', 'pricing tier', ['F0', 'S0'], forCreate ? 'S0' : undefined))
    .option('--custom-domain <subdomain>', 'custom subdomain ({subdomain}.cognitiveservices.azure.com); cannot be changed once set')
    .addOption(
      choice(
        '--default-action <action>',
        forCreate ? 'network rule default action (default Deny when rules are given, else Allow)' : 'network rule default action',
        ['Allow', 'Deny'],
      ),
    )
    .option('--ip-rule <cidr>', forCreate ? 'allowed address or CIDR range (repeatable)' : 'allowed address or CIDR range (repeatable; replaces the list)', collect)
    .option(
      '--vnet-rule <subnet>',
      forCreate ? 'allowed subnet, <vnet>/<subnet> or a subnet id (repeatable)' : 'allowed subnet, <vnet>/<subnet> or a subnet id (repeatable; replaces the list)',
      collect,
    )
    .addOption(choice('--public-access <state>', 'public network access', ['Enabled', 'Disabled']))
    .option('--disable-local-auth', 'refuse keys (and tokens issued for keys)');
}

function hasAclFlags(f: AccountSettingFlags & Partial<UpdateFlags>): boolean {
  return f.defaultAction !== undefined || f.ipRule !== undefined || f.vnetRule !== undefined || f.clearIpRules === true || f.clearVnetRules === true;
}

function createBody(c: AdminClient, f: CreateFlags): unknown {
  const properties: Record<string, unknown> = {};
  if (f.customDomain !== undefined) properties['customSubDomainName'] = f.customDomain;
  if (f.publicAccess !== undefined) properties['publicNetworkAccess'] = f.publicAccess;
  if (f.disableLocalAuth) properties['disableLocalAuth'] = true;
  if (hasAclFlags(f)) {
    const rules = f.ipRule !== undefined || f.vnetRule !== undefined;
    const acls: NetworkAclsBody = {
      defaultAction: f.defaultAction ?? (rules ? 'Deny' : 'Allow'),
      ipRules: (f.ipRule ?? []).map((value) => ({ value })),
      virtualNetworkRules: (f.vnetRule ?? []).map((r) => ({ id: c.subnetId(r, '--vnet-rule') })),
    };
    properties['networkAcls'] = acls;
  }
  return { location: f.location, kind: KIND, sku: { name: f.sku ?? 'S0' }, properties };
}

/**
 * PATCH carries only what was given. networkAcls is one object on the wire, so a change to part of
 * it (the default action, or one of the two lists) is merged into the current value read first.
 */
async function updateBody(c: AdminClient, name: string, f: UpdateFlags): Promise<unknown> {
  if (f.ipRule !== undefined && f.clearIpRules) throw new UsageError('give --ip-rule or --clear-ip-rules, not both');
  if (f.vnetRule !== undefined && f.clearVnetRules) throw new UsageError('give --vnet-rule or --clear-vnet-rules, not both');
  if (f.disableLocalAuth && f.enableLocalAuth) throw new UsageError('give --disable-local-auth or --enable-local-auth, not both');
  const body: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  if (f.sku !== undefined) body['sku'] = { name: f.sku };
  if (f.customDomain !== undefined) properties['customSubDomainName'] = f.customDomain;
  if (f.publicAccess !== undefined) properties['publicNetworkAccess'] = f.publicAccess;
  if (f.disableLocalAuth) properties['disableLocalAuth'] = true;
  if (f.enableLocalAuth) properties['disableLocalAuth'] = false;
  if (hasAclFlags(f)) {
    const vnetRules = f.vnetRule?.map((r) => ({ id: c.subnetId(r, '--vnet-rule') }));
    const current = ((await c.get(c.accountPath(name), V)) as AccountResource).properties?.networkAcls;
    const acls: NetworkAclsBody = {
      defaultAction: f.defaultAction ?? current?.defaultAction ?? 'Allow',
      ...(current?.bypass !== undefined ? { bypass: current.bypass } : {}),
      ipRules: f.clearIpRules ? [] : (f.ipRule?.map((value) => ({ value })) ?? (current?.ipRules ?? []).map((r) => ({ value: r.value }))),
      virtualNetworkRules: f.clearVnetRules
        ? []
        : (vnetRules ??
          (current?.virtualNetworkRules ?? []).map((r) => ({
            id: r.id,
            ...(r.ignoreMissingVnetServiceEndpoint !== undefined ? { ignoreMissingVnetServiceEndpoint: r.ignoreMissingVnetServiceEndpoint } : {}),
          }))),
    };
    properties['networkAcls'] = acls;
  }
  if (Object.keys(properties).length > 0) body['properties'] = properties;
  if (Object.keys(body).length === 0) throw new UsageError('nothing to update: give at least one setting (see parlance account update --help)');
  return body;
}

/** `--set name=value` pairs → the limits PATCH body (numbers, `none` → null, `default`). */
function limitChanges(pairs: readonly string[]): Record<string, number | null | 'default'> {
  const body: Record<string, number | null | 'default'> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(pair.trim());
    if (!m?.[1] || m[2] === undefined) throw new UsageError(`--set expects limit=value, got '${pair}'`);
    const v = m[2];
    body[m[1]] = v === 'none' ? null : v === 'default' ? 'default' : Number.isFinite(Number(v)) ? Number(v) : Number.NaN;
    if (Number.isNaN(body[m[1]])) throw new UsageError(`--set ${m[1]}: '${v}' is not a number, 'none' or 'default'`);
  }
  return body;
}

/** `parlance account …`: Speech resources (Microsoft.CognitiveServices/accounts) through the control plane. */
export function registerAccountCommands(program: Command): void {
  const account = usageExits(program.command('account').description('manage Speech resources (Microsoft.CognitiveServices accounts) through the control plane'));

  settingOptions(
    withAdminOptions(account.command('create').description('create (or replace) a Speech resource').argument('<name>', 'account name')),
    true,
  )
    .requiredOption('--location <region>', 'Azure region, e.g. westus')
    .action(async (name: string, f: CreateFlags) => act(f, async (c) => c.put(c.accountPath(name), V, createBody(c, f))));

  withAdminOptions(account.command('show').description('show a Speech resource').argument('<name>', 'account name')).action(async (name: string, f: AdminFlags) =>
    act(f, (c) => c.get(c.accountPath(name), V)),
  );

  withAdminOptions(account.command('list').description('list the Speech resources of the resource group'))
    .option('--all-groups', 'every resource group of the subscription')
    .action(async (f: ListFlags) =>
      act(f, (c) => c.get(f.allGroups ? `/subscriptions/${encodeURIComponent(c.subscription)}/providers/Microsoft.CognitiveServices/accounts` : c.accountsPath(), V)),
    );

  withAdminOptions(account.command('keys').description('print the two keys of a Speech resource').argument('<name>', 'account name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.post(`${c.accountPath(name)}/listKeys`, V)),
  );

  withAdminOptions(account.command('regenerate-key').description('replace one key of a Speech resource with a new one').argument('<name>', 'account name'))
    .addOption(choice('--key <key>', 'which key', ['key1', 'key2']).makeOptionMandatory())
    .action(async (name: string, f: RegenerateFlags) =>
      act(f, (c) => c.post(`${c.accountPath(name)}/regenerateKey`, V, { keyName: f.key === 'key1' ? 'Key1' : 'Key2' })),
    );

  settingOptions(
    withAdminOptions(account.command('update').description('change the given settings of a Speech resource (PATCH)').argument('<name>', 'account name')),
    false,
  )
    .option('--enable-local-auth', 'accept keys again')
    .option('--clear-ip-rules', 'remove every IP rule')
    .option('--clear-vnet-rules', 'remove every virtual network rule')
    .action(async (name: string, f: UpdateFlags) => act(f, async (c) => c.patch(c.accountPath(name), V, await updateBody(c, name, f))));

  withAdminOptions(account.command('usages').description("this month's usage and the limits in force (ARM usages)").argument('<name>', 'account name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.get(`${c.accountPath(name)}/usages`, V)),
  );

  withAdminOptions(
    account
      .command('limits')
      .description('show, or with --set change, the pricing-tier limits of a Speech resource (overrides of the tier defaults)')
      .argument('<name>', 'account name'),
  )
    .option('--set <limit=value>', 'e.g. sttConcurrency=3, ttsCharactersPerMonth=none (no allowance), sttConcurrency=default (repeatable)', collect)
    .action(async (name: string, f: AdminFlags & { set?: string[] }) =>
      act(f, (c) => (f.set && f.set.length > 0 ? c.patch(`${c.accountPath(name)}/limits`, V, limitChanges(f.set)) : c.get(`${c.accountPath(name)}/limits`, V))),
    );

  withAdminOptions(account.command('delete').description('delete a Speech resource (its private endpoints lose their connection)').argument('<name>', 'account name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.delete(c.accountPath(name), V)),
  );
}
