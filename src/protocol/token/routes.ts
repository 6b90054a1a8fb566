import type { FastifyInstance } from 'fastify';
import type { TokenService } from '../../domain/auth/token-service.js';
import { Errors } from '../../domain/errors.js';
import { queryValue } from '../shared/query.js';

export interface TokenRoutesOptions {
  tokens: TokenService;
}

/**
 * `POST /sts/v1.0/issueToken` (protocol §2.2, §C.4): a key in, a JWT out as text/plain, valid for
 * 10 minutes on the kind of host it was issued on. Admission (key only, "All networks" only) is the
 * data-plane hook's; this route only mints. Any body is accepted and ignored, as Azure does.
 */
export async function tokenRoutes(app: FastifyInstance, opts: TokenRoutesOptions): Promise<void> {
  app.addContentTypeParser('*', { bodyLimit: 64 * 1024 }, (_req, payload, done) => {
    payload.resume();
    payload.on('end', () => done(null, undefined));
    payload.on('error', (err) => done(err, undefined));
  });
  app.post('/sts/v1.0/issueToken', { config: { surface: 'token' } }, async (req, reply) => {
    const admission = req.admission;
    if (!admission) throw Errors.internal(new Error('token route outside the data-plane scope'));
    const scope = queryValue(req.query, 'scope');
    const issued = await opts.tokens.issue(admission.account, admission.audience, scope ? { scope } : {});
    return reply.code(200).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(issued.token);
  });
}
