import type { ServiceError } from '../../kernel/errors.js';
import type { TokenVerifier } from '../ports/token-verifier.js';
import type { Account, KeyName } from '../resources/account.js';
import type { AccountService } from '../resources/account-service.js';
import { Errors } from '../errors.js';

/** Credentials as the edge extracted them (header or query string — the SDKs use both). */
export interface Credentials {
  subscriptionKey?: string;
  bearerToken?: string;
}

export type Principal = { account: Account; via: { kind: 'key'; which: KeyName } | { kind: 'token' } };

export type AuthOutcome = { kind: 'accept'; principal: Principal } | { kind: 'reject'; error: ServiceError } | { kind: 'abstain' };

/** One link of the chain: accepts, rejects, or says "not mine" (Azurite's IAuthenticator idea). */
export interface Authenticator {
  authenticate(creds: Credentials): Promise<AuthOutcome>;
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
    private readonly verifier: TokenVerifier | undefined,
  ) {}

  async authenticate(creds: Credentials): Promise<AuthOutcome> {
    if (creds.bearerToken === undefined) return { kind: 'abstain' };
    if (!this.verifier) return { kind: 'reject', error: Errors.invalidToken('unknown token') };
    const v = await this.verifier.verify(creds.bearerToken);
    if (!v.ok) return { kind: 'reject', error: Errors.invalidToken(v.reason) };
    const account = await this.accounts.get(v.accountName);
    if (!account) return { kind: 'reject', error: Errors.invalidToken('unknown resource') };
    return { kind: 'accept', principal: { account, via: { kind: 'token' } } };
  }
}

/**
 * Runs the chain in order. A key wins over a token when both are present (the JS SDK sends the key
 * in that case too); with neither, the request is refused as Azure does for a missing key.
 */
export class AuthService {
  constructor(private readonly chain: readonly Authenticator[]) {}

  async authenticate(creds: Credentials): Promise<Principal> {
    for (const a of this.chain) {
      const outcome = await a.authenticate(creds);
      if (outcome.kind === 'accept') return outcome.principal;
      if (outcome.kind === 'reject') throw outcome.error;
    }
    throw Errors.missingCredentials();
  }
}
