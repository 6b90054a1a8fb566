#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../app.js';
import { recognize } from './recognize.js';
import { serve } from './serve.js';
import { synthesize } from './synthesize.js';
import { registerUrlCommands } from './url.js';
import { registerDnsCommands } from './dns.js';
import { registerAccountCommands } from './account.js';
import { registerNetworkCommands } from './network.js';
import { registerCaCommands } from './ca.js';
import { registerCsrCommands } from './csr.js';

const program = new Command();
program.name('parlance').description('Self-hosted speech service that speaks Azure AI Speech protocols').version(VERSION);

program
  .command('serve')
  .description('start the HTTP and WebSocket server')
  .option('--host <host>', 'address to listen on')
  .option('--port <port>', 'port (0 picks a free one)')
  .option('--data-dir <dir>', 'data directory (embedded database)')
  .option('--region <region>', 'Azure region the default resource claims')
  .option('--key <key>', 'key1 of the default resource')
  .option('--config <file>', 'JSON config file')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
  .option('--print-key', 'print key1 of the default resource when ready')
  .option('--admin-token <token>', 'bearer token of the control plane (default: generated once, kept in the data directory)')
  .option('--dns-port <port>', 'serve authoritative DNS for the Azure Speech names on this port (UDP and TCP)')
  .option('--trust-proxy', 'take the client address from X-Forwarded-For (only behind your own proxy)')
  .option('--tls-port <port>', 'also serve HTTPS/WSS with a certificate from the local CA (parlance ca export)')
  .action(async (opts: Parameters<typeof serve>[0]) => {
    await serve(opts);
  });

program
  .command('recognize')
  .description('recognize a file over the WebSocket protocol, printing results as they arrive')
  .requiredOption('--file <file>', 'audio file (WAV, OGG/Opus, MP3 …)')
  .option('--continuous', 'continuous (conversation) recognition instead of single-shot')
  .option('--format <format>', 'simple|detailed', 'simple')
  .option('--language <locale>', 'recognition locale', 'en-US')
  .option('--url <url>', 'server URL', 'ws://127.0.0.1:5000')
  .option('--key <key>', 'subscription key')
  .action(async (opts: Parameters<typeof recognize>[0]) => {
    process.exitCode = await recognize(opts);
  });

program
  .command('synthesize')
  .description('synthesize text or an SSML file to an audio file through a server')
  .option('--text <text>', 'text to speak')
  .option('--ssml-file <file>', 'SSML document to speak')
  .option('--voice <name>', 'voice (Azure or local short name)', 'en-US-AvaMultilingualNeural')
  .option('--format <name>', 'output format (X-Microsoft-OutputFormat)', 'riff-24khz-16bit-mono-pcm')
  .requiredOption('--out <file>', 'where to write the audio')
  .option('--url <url>', 'server URL', 'http://127.0.0.1:5000')
  .option('--key <key>', 'subscription key')
  .action(async (opts: Parameters<typeof synthesize>[0]) => {
    process.exitCode = await synthesize(opts);
  });

registerUrlCommands(program);
registerDnsCommands(program);
registerAccountCommands(program);
registerNetworkCommands(program);
registerCaCommands(program);
registerCsrCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`parlance: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
