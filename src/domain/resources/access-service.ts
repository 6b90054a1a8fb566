import { Errors } from '../errors.js';
import type { AuthContext, AuthService, Credentials, Principal } from '../auth/auth-service.js';
import type { TokenAudience } from '../auth/token-service.js';
import { allowsAllNetworks, type Account } from './account.js';
import type { AccountService } from './account-service.js';
import { classifyOrigin, evaluateNetworkAccess, regionalHostRefusesKeys, usesPrivateLinkForm, type TrafficOrigin } from './access.js';
import { classifyHost, splitOfferingPrefix, type HostRoute, type HostSuffixes } from './hosts.js';
import type { NetworkSnapshot } from './network.js';

/**
 * What a data-plane route is: a speech surface (recognition, synthesis, voices: the `/{offering}/…`
 * form on a custom domain), the token service (key in, token out: a token cannot mint a token), or
 * the management API (`/speechtotext/…`, standard paths on every host).
 */
export type Surface = 'speech' | 'token' | 'management';

export interface DataPlaneRequest {
  /** The Host header as sent (custom domains and regional hosts are told apart by it). */
  host: string | undefined;
  /** URL path without the query string. */
  path: string;
  /** The client's address (the TCP peer, or X-Forwarded-For behind a trusted proxy). */
  sourceIp: string;
  /** The address of this host the connection arrived on (private endpoints are told apart by it). */
  localIp: string;
  credentials: Credentials;
  surface: Surface;
}

export interface Admission {
  principal: Principal;
  account: Account;
  route: HostRoute;
  origin: TrafficOrigin;
  /** The audience a token minted for this request must carry. */
  audience: TokenAudience;
}

/**
 * The data-plane admission pipeline, in the order Azure's front door applies it (protocol §E.3,
 * seeds 000 and 001): resolve the resource (custom domain from the Host; otherwise from the
 * credentials), check the path form the host serves, apply network rules from the real addresses,
 * then check that the credentials belong to that resource and may be used on this host.
 */
export class AccessService {
  constructor(
    private readonly accounts: AccountService,
    private readonly auth: AuthService,
    private readonly network: () => Promise<NetworkSnapshot>,
    private readonly suffixes: HostSuffixes,
  ) {}

  async admit(req: DataPlaneRequest): Promise<Admission> {
    const route = classifyHost(req.host, this.suffixes);
    const snapshot = await this.network();
    const ctx: AuthContext =
      route.kind === 'customDomain'
        ? { audience: { kind: 'customDomain', subdomain: route.subdomain } }
        : route.kind === 'regional'
          ? { audience: { kind: 'regional', region: route.region } }
          : { audience: 'container' };

    let account: Account;
    let principal: Principal | undefined;
    if (route.kind === 'customDomain') {
      const found = await this.accounts.getByCustomSubdomain(route.subdomain);
      if (!found) throw Errors.notFound();
      account = found;
      if (req.surface === 'speech') {
        // Speech paths exist on a custom domain only in the `/{offering}/…` form, and only while the
        // virtual-network proxy serves it (private endpoints or allowed networks); otherwise 404 (seed 001).
        const { offering } = splitOfferingPrefix(req.path);
        if (!offering || !usesPrivateLinkForm(account, snapshot)) throw Errors.notFound();
      }
    } else {
      // On regional and container hosts only the credentials say which resource is meant, and the
      // regional front door refuses them before any network rule: another region's key, or (seed
      // 001) the key of a custom-domain resource with private endpoints, is a 401.
      principal = await this.auth.authenticate(req.credentials, ctx);
      account = principal.account;
      if (route.kind === 'regional') {
        if (account.region !== route.region) throw principal.via.kind === 'key' ? Errors.invalidKey() : Errors.invalidToken('issued for another region');
        if (route.offering !== 'api' && regionalHostRefusesKeys(account, snapshot)) throw Errors.invalidKey();
      }
    }

    const origin = classifyOrigin(snapshot, req.sourceIp, req.localIp);
    const decision = evaluateNetworkAccess(account, origin);
    if (!decision.allowed) throw Errors.networkAccessDenied(decision.reason);
    if (route.kind === 'regional' && account.networkAcls.defaultAction === 'Deny' && account.networkAcls.virtualNetworkRules.length > 0) {
      throw Errors.customDomainRequired();
    }

    principal ??= await this.auth.authenticate(req.credentials, ctx);
    if (principal.account.id !== account.id) throw principal.via.kind === 'key' ? Errors.invalidKey() : Errors.invalidToken('issued for another resource');
    const local = principal.via.kind === 'key' || principal.via.fromKey;
    if (account.disableLocalAuth && local) throw Errors.localAuthDisabled();

    if (req.surface === 'token') {
      if (principal.via.kind !== 'key') throw Errors.missingCredentials();
      // Seed 001: tokens only under "All networks"; "Forbidden or BadRequest" otherwise.
      if (!allowsAllNetworks(account)) throw Errors.tokenIssuanceRestricted(origin.kind === 'public' ? 403 : 400);
    }
    const audience: TokenAudience =
      route.kind === 'customDomain' ? { kind: 'customDomain', subdomain: route.subdomain } : { kind: 'regional', region: route.kind === 'regional' ? route.region : account.region };
    return { principal, account, route, origin, audience };
  }
}
