import type { ServiceError } from '../../kernel/errors.js';
import type { Account, KeyName } from '../resources/account.js';
import type { AccountService } from '../resources/account-service.js';
import { Errors } from '../errors.js';
import type { TokenAudience, TokenService } from './token-service.js';

/** Credentials as the edge extracted them (header or query string — the SDKs use both). */
export interface Credentials {
  subscriptionKey?: string;
  bearerToken?: string;
}

export type Principal = { account: Account; via: { kind: 'key'; which: KeyName } | { kind: 'token'; fromKey: boolean } };

/**
 * Which tokens count here: those issued for this regional host or custom domain. `container` is a
 * host that is neither (localhost:5000): tokens issued there carry the account's region.
 */
export type AuthContext = { audience: TokenAudience | 'container' };

export type AuthOutcome = { kind: 'accept'; principal: Principal } | { kind: 'reject'; error: ServiceError } | { kind: 'abstain' };

/** One link of the chain: accepts, rejects, or says "not mine" (Azurite's IAuthenticator idea). */
export interface Authenticator {
  authenticate(creds: Credentials, ctx: AuthContext): Promise<AuthOutcome>;
}

export class SubscriptionKeyAuthenticator implements Authenticator {
  constructor(private readonly accounts: AccountService) {}

  async authenticate(creds: Credentials): Promise<AuthOutcome> {
    if (creds.subscriptionKey === undefined) return { kind: 'abstain' };
    const found = await this.accounts.findByKey(creds.subscriptionKey);
    if (!found) return { kind: 'reject', error: Errors.invalidKey() };
    return { kind: 'accept', principal: { account: found.account, via: { kind: 'key', which: found.which } } };
  }
}

export class BearerTokenAuthenticator implements Authenticator {
  constructor(
    private readonly accounts: AccountService,
    private readonly tokens: TokenService,
  ) {}

  async authenticate(creds: Credentials, ctx: AuthContext): Promise<AuthOutcome> {
    if (creds.bearerToken === undefined) return { kind: 'abstain' };
    const v = await this.tokens.verify(creds.bearerToken, ctx.audience === 'container' ? 'anyRegional' : ctx.audience);
    if (!v.ok) return { kind: 'reject', error: Errors.invalidToken(v.reason) };
    const account = await this.accounts.getById(v.identity.accountId);
    if (!account) return { kind: 'reject', error: Errors.invalidToken('the resource no longer exists') };
    return { kind: 'accept', principal: { account, via: { kind: 'token', fromKey: v.identity.fromKey } } };
  }
}

/**
 * Runs the chain in order. A key wins over a token when both are present (the JS SDK sends the key
 * in that case too); with neither, the request is refused as Azure does for a missing key.
 */
export class AuthService {
  constructor(private readonly chain: readonly Authenticator[]) {}

  async authenticate(creds: Credentials, ctx: AuthContext = { audience: 'container' }): Promise<Principal> {
    for (const a of this.chain) {
      const outcome = await a.authenticate(creds, ctx);
      if (outcome.kind === 'accept') return outcome.principal;
      if (outcome.kind === 'reject') throw outcome.error;
    }
    throw Errors.missingCredentials();
  }
}
