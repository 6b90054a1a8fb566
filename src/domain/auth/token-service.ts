import { newUuid } from '../../kernel/ids.js';
import type { Clock } from '../../kernel/time.js';
import type { TokenSigner } from '../ports/token-signer.js';
import { accountArmId, type Account } from '../resources/account.js';

/** The host a token was requested on: Azure's tokens only work on the kind of host that issued them (protocol §2.2). */
export type TokenAudience = { kind: 'regional'; region: string } | { kind: 'customDomain'; subdomain: string };

export interface IssuedToken {
  token: string;
  expiresAtMs: number;
}

export interface TokenIdentity {
  /** Account.id, not the name: a deleted-and-recreated account does not inherit the old one's tokens. */
  accountId: string;
  accountArmId: string;
  region: string;
  /** Minted from a subscription key (as opposed to Entra ID); `disableLocalAuth` refuses these. */
  fromKey: boolean;
  scope?: string;
}

export type TokenVerification = { ok: true; identity: TokenIdentity } | { ok: false; reason: string };

export const TOKEN_ISSUER = 'urn:ms.cognitiveservices';
export const DEFAULT_TOKEN_SCOPE = 'speechservices';
export const DEFAULT_TOKEN_TTL_MS = 10 * 60_000;

const CLAIM_CUSTOM_DOMAIN = 'custom-domain';
const CLAIM_FROM_KEY = 'parlance:from-key';

/** Azure's audience names only the region, which a custom-domain token shares with regional ones; hence `custom-domain`. */
function audienceUrn(region: string): string {
  return `urn:ms.speechservices.${region}`;
}

/**
 * Mints and checks the STS-style tokens of `POST /sts/v1.0/issueToken`. The claim set mimics Azure's
 * (region, subscription-id, product-id, azure-resource-id, scope, aud, iss) so that code which decodes
 * the token — some SDK samples read `region` from it — behaves as against Azure.
 */
export class TokenService {
  constructor(
    private readonly signer: TokenSigner,
    private readonly clock: Clock,
    private readonly ttlMs = DEFAULT_TOKEN_TTL_MS,
  ) {
    if (!(ttlMs >= 1000)) throw new RangeError(`token lifetime must be at least one second, got ${ttlMs} ms`);
  }

  /**
   * The caller has already matched the host to the account; an audience that does not belong to the
   * account is a programming error (such a token could never verify), so it throws rather than mints.
   */
  async issue(account: Account, audience: TokenAudience, opts: { scope?: string } = {}): Promise<IssuedToken> {
    const region = account.region.toLowerCase();
    const claims: Record<string, unknown> = {
      region,
      'subscription-id': account.subscriptionId,
      'product-id': `SpeechServices.${account.sku}`,
      'azure-resource-id': accountArmId(account),
      scope: opts.scope ?? DEFAULT_TOKEN_SCOPE,
      aud: audienceUrn(region),
      iss: TOKEN_ISSUER,
      sub: account.id,
      jti: newUuid(),
      [CLAIM_FROM_KEY]: true,
    };
    if (audience.kind === 'regional') {
      if (audience.region.toLowerCase() !== region) {
        throw new Error(`cannot issue a token for region ${audience.region}: account ${account.name} is in ${account.region}`);
      }
    } else {
      const subdomain = audience.subdomain.toLowerCase();
      if (account.customSubDomainName?.toLowerCase() !== subdomain) {
        throw new Error(`cannot issue a token for custom domain ${audience.subdomain}: it is not account ${account.name}'s`);
      }
      claims[CLAIM_CUSTOM_DOMAIN] = subdomain;
    }
    // Whole seconds, because JWT times are: the reported expiry is then exactly the token's `exp`.
    const issuedAtMs = Math.floor(this.clock.now() / 1000) * 1000;
    const expiresAtMs = issuedAtMs + Math.floor(this.ttlMs / 1000) * 1000;
    const token = await this.signer.sign(claims, { issuedAtMs, expiresAtMs });
    return { token, expiresAtMs };
  }

  /** Reasons are short and human; the caller turns any failure into a 401. */
  /** `anyRegional`: a container-style host (localhost:5000), where a regional token of any region is accepted. */
  async verify(token: string, audience: TokenAudience | 'anyRegional'): Promise<TokenVerification> {
    const v = await this.signer.verify(token, this.clock.now());
    if (!v.ok) {
      switch (v.reason) {
        case 'expired':
          return { ok: false, reason: 'expired' };
        case 'not-yet-valid':
          return { ok: false, reason: 'not yet valid' };
        case 'signature':
          return { ok: false, reason: 'invalid signature' };
        case 'malformed':
          return { ok: false, reason: 'malformed' };
      }
    }
    const c = v.claims;
    const sub = c['sub'];
    const armId = c['azure-resource-id'];
    const region = c['region'];
    const scope = c['scope'];
    const customDomain = c[CLAIM_CUSTOM_DOMAIN];
    if (
      c['iss'] !== TOKEN_ISSUER ||
      !isNonEmptyString(sub) ||
      !isNonEmptyString(armId) ||
      !isNonEmptyString(region) ||
      !isNonEmptyString(scope) ||
      c['aud'] !== audienceUrn(region) ||
      (customDomain !== undefined && !isNonEmptyString(customDomain))
    ) {
      return { ok: false, reason: 'malformed' };
    }
    const forThisHost =
      audience === 'anyRegional'
        ? customDomain === undefined
        : audience.kind === 'regional'
        ? customDomain === undefined && region === audience.region.toLowerCase()
        : customDomain === audience.subdomain.toLowerCase();
    if (!forThisHost) return { ok: false, reason: 'issued for another endpoint' };
    return {
      ok: true,
      identity: { accountId: sub, accountArmId: armId, region, fromKey: c[CLAIM_FROM_KEY] === true, scope },
    };
  }
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
