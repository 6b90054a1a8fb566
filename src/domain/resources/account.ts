/** A Speech resource ("account" in ARM terms): the unit that owns keys, region and, later, network rules. */
export interface Account {
  id: string;
  name: string;
  region: string;
  sku: 'F0' | 'S0';
  key1: string;
  key2: string;
  createdAt: string;
  /** Optimistic-concurrency version, bumped on every update. */
  version: number;
}

export type KeyName = 'key1' | 'key2';
