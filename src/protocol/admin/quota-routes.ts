import type { FastifyInstance } from 'fastify';
import { Errors } from '../../domain/errors.js';
import { TIER_DEFAULTS, mergeOverrides, type QuotaLimits } from '../../domain/quota/limits.js';
import type { QuotaService } from '../../domain/quota/quota-service.js';
import { accountArmId, type Account } from '../../domain/resources/account.js';
import { accountNamed, inGroup, resourceNotFound, type AdminRoutesOptions, type ResourceGroupParams } from './arm.js';
import { ACCOUNT_TYPE } from './views.js';

interface AccountParams extends ResourceGroupParams {
  accountName: string;
}

const ACCOUNT = '/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.CognitiveServices/accounts/:accountName';

/** ISO 8601 durations: the allowances run per calendar month of the service clock. */
const MONTH = 'P1M';

type Report = Awaited<ReturnType<QuotaService['report']>>;

/** ARM `Usage` items (2024-10-01 `UsageListResult`), one per limit and counter of the resource. */
export function usagesView(r: Report): { value: object[] } {
  const reset = new Date(r.nextResetMs).toISOString();
  const usage = (name: string, unit: string, currentValue: number, limit: number | null, quotaPeriod: string, resets: boolean): object => ({
    name: { value: name, localizedValue: name },
    unit,
    quotaPeriod,
    ...(limit !== null ? { limit } : {}),
    currentValue,
    ...(resets ? { nextResetTime: reset } : {}),
    status: limit !== null && currentValue >= limit ? 'Blocked' : 'Included',
  });
  const l = r.limits;
  return {
    value: [
      usage('SpeechServices.SpeechToText.AudioSeconds', 'Seconds', Math.round(r.month.sttAudioMs) / 1000, l.sttAudioSecondsPerMonth, MONTH, true),
      usage('SpeechServices.TextToSpeech.Characters', 'Count', r.month.ttsCharacters, l.ttsCharactersPerMonth, MONTH, true),
      usage('SpeechServices.SpeechToText.Requests', 'Count', r.month.sttRequests, null, MONTH, true),
      usage('SpeechServices.TextToSpeech.Requests', 'Count', r.month.ttsRequests, null, MONTH, true),
      usage('SpeechServices.ThrottledRequests', 'Count', r.month.throttled, null, MONTH, true),
      // Live values: slots in use now and requests inside the current call-rate window.
      usage('SpeechServices.SpeechToText.ConcurrentRequests', 'Count', r.sttInUse, l.sttConcurrency, 'PT0S', false),
      usage('SpeechServices.TextToSpeech.CallRate', 'Count', r.ttsInWindow, l.ttsRequests, `PT${l.ttsWindowSeconds}S`, false),
    ],
  };
}

/** `$filter=name.value eq 'A' [or name.value eq 'B' …]`, the form ARM documents for usages. */
function usageFilter(filter: string | undefined): ((name: string) => boolean) | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const names: string[] = [];
  for (const clause of filter.split(/\s+or\s+/i)) {
    const m = /^\s*name\.value\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!m?.[1]) throw Errors.invalidArgument(`Unsupported $filter '${filter}': use name.value eq '<name>' joined by 'or'.`, { armCode: 'InvalidFilter' });
    names.push(m[1].toLowerCase());
  }
  return (name) => names.includes(name.toLowerCase());
}

/** Parlance extension: the resource's limits, their tier defaults and its overrides. */
export function limitsView(a: Account, quotas: QuotaService): object {
  return {
    id: `${accountArmId(a)}/limits`,
    name: 'limits',
    type: `${ACCOUNT_TYPE}/limits`,
    properties: {
      tier: a.sku,
      defaults: { ...TIER_DEFAULTS[a.sku] },
      overrides: { ...a.quotaOverrides },
      effective: quotas.limitsOf(a) satisfies QuotaLimits,
    },
  };
}

/**
 * Usage and limits of a resource: ARM's `accounts/{name}/usages`, and `accounts/{name}/limits`, a
 * Parlance extension (Azure changes limits through support requests) whose PATCH body maps limit
 * names to a number, `null` (no monthly allowance) or "default".
 */
export async function quotaRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { accounts, quotas } = opts;
  const accountAt = async (p: AccountParams): Promise<Account> => {
    const a = await accountNamed(accounts, p.accountName);
    if (!a || !inGroup(a, p)) throw resourceNotFound(ACCOUNT_TYPE, p.accountName, p.resourceGroupName);
    return a;
  };

  app.get<{ Params: AccountParams; Querystring: { $filter?: string } }>(`${ACCOUNT}/usages`, async (req) => {
    const account = await accountAt(req.params);
    const keep = usageFilter(req.query.$filter);
    const view = usagesView(await quotas.report(account));
    return keep ? { value: view.value.filter((u) => keep((u as { name: { value: string } }).name.value)) } : view;
  });

  app.get<{ Params: AccountParams }>(`${ACCOUNT}/limits`, async (req) => limitsView(await accountAt(req.params), quotas));

  app.patch<{ Params: AccountParams; Body: unknown }>(`${ACCOUNT}/limits`, async (req) => {
    const account = await accountAt(req.params);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw Errors.invalidArgument('The body must be a JSON object of limit names to values.', { armCode: 'InvalidRequestContent' });
    }
    const overrides = mergeOverrides(account.quotaOverrides, body as Record<string, unknown>);
    return limitsView(await accounts.update(account.name, { quotaOverrides: overrides }), quotas);
  });
}
