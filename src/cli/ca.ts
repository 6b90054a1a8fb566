import type { Output } from './admin-client.js';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { CA_CERT_FILE, TLS_DIR, loadOrCreateCa } from '../security/local-ca.js';

export interface CaExportFlags {
  dataDir?: string;
  config?: string;
  out?: string;
}


/**
 * `parlance ca export`: the local CA certificate (PEM) that clients must trust for HTTPS/WSS — made
 * in the data directory if it does not exist yet, exactly as `serve` would make it. The private key
 * never leaves the data directory.
 */
export async function caExport(flags: CaExportFlags, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const dataDir = flags.dataDir ?? loadConfig({ ...(flags.config ? { file: flags.config } : {}) }).dataDir;
  const ca = await loadOrCreateCa(dataDir);
  if (flags.out === undefined) {
    out.write(ca.certPem);
    return 0;
  }
  await writeFile(flags.out, ca.certPem, { mode: 0o644 });
  const x509 = new X509Certificate(ca.certPem);
  err.write(
    `wrote ${flags.out} (${join(dataDir, TLS_DIR, CA_CERT_FILE)}): ${x509.subject.replace(/\n/g, ', ')}, valid until ${x509.validTo}\n` +
      `SHA-256 fingerprint ${x509.fingerprint256}\n` +
      `Node.js clients: NODE_EXTRA_CA_CERTS=${flags.out}; others: add it to the system or application trust store.\n`,
  );
  return 0;
}

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('the local certificate authority behind HTTPS/WSS');
  ca.command('export')
    .description('print (or write) the CA certificate clients must trust; creates the CA if absent')
    .option('--data-dir <dir>', 'data directory (default: from --config / PARLANCE_DATA_DIR, else ./data)')
    .option('--config <file>', 'JSON config file (for its dataDir)')
    .option('--out <file>', 'write the PEM to this file instead of stdout')
    .action(async (flags: CaExportFlags) => {
      process.exitCode = await caExport(flags);
    });
}
