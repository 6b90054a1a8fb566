/** Fields and rules every Custom Speech entity shares (protocol §D.2). */

export type EntityStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed';

export interface EntityError {
  code: string;
  message: string;
}

export interface EntityBase {
  id: string;
  accountId: string;
  displayName: string;
  description?: string;
  locale: string;
  customProperties?: Record<string, string>;
  createdAt: string;
  lastActionAt: string;
}

/** customProperties bounds from the v3.2 spec: at most 10 entries, keys ≤ 64 and values ≤ 256 characters. */
export function customPropertiesProblem(p: Record<string, unknown> | undefined): string | undefined {
  if (p === undefined) return undefined;
  const entries = Object.entries(p);
  if (entries.length > 10) return 'customProperties can have at most 10 entries.';
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 64) return `customProperties key '${k.slice(0, 70)}' must be 1 to 64 characters.`;
    if (typeof v !== 'string' || v.length > 256) return `customProperties value of '${k}' must be a string of at most 256 characters.`;
  }
  return undefined;
}

/** A time as the API shows it (`lastActionDateTime`, `createdDateTime`): ISO 8601 to the second. */
export function apiTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
