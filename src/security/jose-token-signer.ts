import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { publishExclusively, readIfExists } from './data-files.js';
import { join } from 'node:path';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { TokenSigner } from '../domain/ports/token-signer.js';

/** HS256 wants a key at least as long as its hash; 32 random bytes is exactly that. */
export const SIGNING_SECRET_BYTES = 32;
export const SIGNING_SECRET_FILE = 'token-signing.key';

const TIME_CLAIMS = ['iat', 'nbf', 'exp'] as const;

export interface JoseTokenSignerOptions {
  /**
   * Seconds of leeway on `nbf`/`exp`, 0..5. Default 0: tokens are issued and checked by the same
   * service (one clock, or hosts sharing one data directory and NTP), so leeway would only stretch
   * Azure's 10-minute lifetime. Raise it only when several hosts with drifting clocks share the key.
   */
  clockToleranceSec?: number;
}

/**
 * Azure's STS tokens are HS256 JWTs too, so tooling that decodes them keeps working against us. The
 * secret never leaves the data directory: only this service verifies what it signed.
 */
export class JoseTokenSigner implements TokenSigner {
  private readonly secret: Uint8Array;
  private readonly clockToleranceSec: number;

  constructor(secret: Uint8Array, opts: JoseTokenSignerOptions = {}) {
    if (secret.byteLength < SIGNING_SECRET_BYTES) {
      throw new RangeError(`token signing secret must be at least ${SIGNING_SECRET_BYTES} bytes, got ${secret.byteLength}`);
    }
    const tolerance = opts.clockToleranceSec ?? 0;
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 5) {
      throw new RangeError(`clockToleranceSec must be between 0 and 5 seconds, got ${tolerance}`);
    }
    // A private copy: the caller's buffer may be reused or zeroed behind our back.
    this.secret = new Uint8Array(secret);
    this.clockToleranceSec = tolerance;
  }

  async sign(claims: Record<string, unknown>, opts: { issuedAtMs: number; expiresAtMs: number }): Promise<string> {
    for (const c of TIME_CLAIMS) {
      if (Object.hasOwn(claims, c)) throw new TypeError(`claim "${c}" is set by the signer from opts, not by the caller`);
    }
    // JWT times are whole seconds; flooring both ends means a token never outlives what the caller asked for.
    const iat = Math.floor(opts.issuedAtMs / 1000);
    const exp = Math.floor(opts.expiresAtMs / 1000);
    if (!(exp > iat)) throw new RangeError('expiresAtMs must be at least one second after issuedAtMs');
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(this.secret);
  }

  async verify(
    token: string,
    nowMs: number,
  ): Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' }> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        currentDate: new Date(nowMs),
        clockTolerance: this.clockToleranceSec,
        requiredClaims: [...TIME_CLAIMS],
      });
      return { ok: true, claims: payload as Record<string, unknown> };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf' && err.reason === 'check_failed') {
        return { ok: false, reason: 'not-yet-valid' };
      }
      // Another algorithm (`none`, HS512 …) is not something we signed: as good as a bad signature.
      if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JOSEAlgNotAllowed) {
        return { ok: false, reason: 'signature' };
      }
      if (err instanceof errors.JOSEError) return { ok: false, reason: 'malformed' };
      throw err;
    }
  }
}

/**
 * The signing secret lives in `{dataDir}/token-signing.key` (32 raw bytes, mode 0600) so tokens survive
 * a restart. Two processes starting on one data directory must end up with the same secret: the new
 * secret is written in full to a private temporary file and then published with link(2), which fails
 * with EEXIST if another process got there first — so nobody ever reads a half-written key, and the
 * loser simply reads the winner's file.
 */
export async function loadOrCreateSigningSecret(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, SIGNING_SECRET_FILE);
  const existing = await readIfExists(file);
  if (existing) return checkedSecret(new Uint8Array(existing), file);

  await mkdir(dataDir, { recursive: true });
  const secret = new Uint8Array(randomBytes(SIGNING_SECRET_BYTES));
  if (await publishExclusively(file, secret, 0o600)) return secret;

  const winner = await readIfExists(file);
  if (!winner) throw new Error(`${file} vanished while the token signing secret was being created`);
  return checkedSecret(new Uint8Array(winner), file);
}

function checkedSecret(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.byteLength !== SIGNING_SECRET_BYTES) {
    throw new Error(
      `${file} holds ${bytes.byteLength} bytes, but a token signing secret is exactly ${SIGNING_SECRET_BYTES} random bytes. ` +
        'Refusing to use it; delete the file to have a new secret generated (tokens already issued will stop working).',
    );
  }
  return bytes;
}
