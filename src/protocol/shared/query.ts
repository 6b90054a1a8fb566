/** Case-insensitive lookup in a parsed query object (Fastify gives string | string[]). */
export function queryValue(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
    if (k.toLowerCase() !== wanted) continue;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  }
  return undefined;
}
