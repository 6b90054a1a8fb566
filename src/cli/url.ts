import type { Command } from 'commander';
import { toCustomDomainUrl, toRegionalUrl } from '../domain/resources/endpoint-url.js';

interface ConvertFlags {
  customDomain?: string;
  region?: string;
}

/** Usage errors exit 2 (as commander's own parse errors do here), keeping 1 for "ran and failed". */
const USAGE_EXIT = 2;

/**
 * `parlance url convert`: the private-endpoint URL rewrite of Azure's docs (protocol §1.3), for
 * people moving an application between a regional resource and one with a custom domain.
 */
export function registerUrlCommands(program: Command): void {
  const url = program
    .command('url')
    .description('work with Speech endpoint URLs')
    // Inherited by the subcommands created below, so their parse errors exit 2 as well.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT));

  url
    .command('convert')
    .description(
      'rewrite a Speech URL between the regional form ({region}.stt.speech.microsoft.com/…) and the ' +
        'custom-domain / private-endpoint form ({name}.cognitiveservices.azure.com/stt/…)',
    )
    .argument('<url>', 'the URL to convert')
    .option('--custom-domain <name>', 'print the custom-domain form for this customSubDomainName')
    .option('--region <region>', 'print the regional form for this region (a custom domain does not say its region)')
    .action((input: string, flags: ConvertFlags) => {
      process.exitCode = convert(input, flags);
    });
}

function convert(input: string, flags: ConvertFlags): number {
  const hasDomain = flags.customDomain !== undefined;
  const hasRegion = flags.region !== undefined;
  if (hasDomain === hasRegion) {
    process.stderr.write('parlance url convert: give exactly one of --custom-domain <name> or --region <region>\n');
    return USAGE_EXIT;
  }
  try {
    const out = hasDomain ? toCustomDomainUrl(input, flags.customDomain!) : toRegionalUrl(input, flags.region!);
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`parlance url convert: ${err instanceof Error ? err.message : String(err)}\n`);
    return USAGE_EXIT;
  }
}
