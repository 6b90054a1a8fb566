import type { AccountService } from '../../domain/resources/account-service.js';
import type { NetworkService } from '../../domain/resources/network-service.js';
import type { Account } from '../../domain/resources/account.js';
import { sameId } from '../../domain/resources/network.js';
import { Errors } from '../../domain/errors.js';
import type { HostSuffixes } from './views.js';
import type { QuotaService } from '../../domain/quota/quota-service.js';

export interface AdminRoutesOptions {
  accounts: AccountService;
  network: NetworkService;
  /** The only credential the control plane accepts (compared in constant time); empty refuses everyone. */
  adminToken: string;
  suffixes: HostSuffixes;
  quotas: QuotaService;
}

export interface ResourceGroupParams {
  subscriptionId: string;
  resourceGroupName: string;
}

/**
 * ARM spells a region with or without spaces and in any case ("West Europe", "westeurope"); the
 * stored region is the data-plane host label, so compare and store the compact lower-case form.
 */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

/** ARM's message for a resource that does not exist under the group in the path. */
export function resourceNotFound(type: string, name: string, resourceGroup: string): Error {
  return Errors.notFound(`The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
}

/**
 * An account by name, whatever its subscription and group. Account names are unique per
 * installation (the data plane finds accounts by name and key), so the name alone identifies one.
 * ARM names are case-insensitive but the repository compares exactly, hence the second look.
 */
export async function accountNamed(accounts: AccountService, name: string): Promise<Account | undefined> {
  const exact = await accounts.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  return (await accounts.list()).find((a) => a.name.toLowerCase() === lower);
}

export function inGroup(a: { subscriptionId: string; resourceGroup: string }, p: ResourceGroupParams): boolean {
  return sameId(a.subscriptionId, p.subscriptionId) && sameId(a.resourceGroup, p.resourceGroupName);
}
