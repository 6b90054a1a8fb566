/** Verifies bearer tokens (the token service arrives with the resources issue). */
export interface TokenVerifier {
  /** The account name the token was issued for, or a reason it is refused. */
  verify(token: string): Promise<{ ok: true; accountName: string } | { ok: false; reason: string }>;
}
