import dns, { type LookupAddress } from 'node:dns';

const AZURE_SUFFIXES = ['.cognitiveservices.azure.com', '.speech.microsoft.com', '.api.cognitive.microsoft.com'];

/**
 * Makes this process resolve Azure Speech host names through Parlance's DNS server, querying from
 * `from` (so the answer is the one a machine at that address gets), the way a VM in a virtual
 * network resolves through Azure DNS. Code that cannot be told which address to dial — the Speech
 * SDK — then connects exactly where DNS says. Returns the function that undoes it.
 */
export function resolveAzureNamesThrough(dnsPort: number, from: string): () => void {
  const original = dns.lookup;
  const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setLocalAddress(from);
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  const patched = (hostname: string, options: unknown, callback?: unknown): void => {
    const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address?: string | LookupAddress[], family?: number) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    if (!AZURE_SUFFIXES.some((s) => hostname.toLowerCase().endsWith(s))) {
      (original as (h: string, o: unknown, c: unknown) => void)(hostname, options, callback);
      return;
    }
    resolver.resolve4(hostname).then(
      (addresses) => {
        const first = addresses[0];
        if (!first) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
        if (opts.all) cb(null, addresses.map((address) => ({ address, family: 4 })));
        else cb(null, first, 4);
      },
      (err: Error) => cb(err),
    );
  };
  dns.lookup = patched as typeof dns.lookup;
  return () => {
    dns.lookup = original;
  };
}
