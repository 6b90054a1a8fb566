/**
 * Signs and checks the bearer tokens the token service hands out. The domain decides what a token says
 * (claims); the adapter owns the envelope (algorithm, key, and the time claims `iat`, `nbf`, `exp`, which
 * it derives from `opts` so that every token's validity window is expressed the same way).
 */
export interface TokenSigner {
  /** `claims` must not carry `iat`, `nbf` or `exp`; the signer sets them from `opts` (whole seconds, never later than asked). */
  sign(claims: Record<string, unknown>, opts: { issuedAtMs: number; expiresAtMs: number }): Promise<string>;
  /** Checks integrity and the validity window at `nowMs`; says nothing about who the token is for. */
  verify(
    token: string,
    nowMs: number,
  ): Promise<{ ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'not-yet-valid' }>;
}
