import type { FastifyInstance } from 'fastify';
import { TallyError } from '@tally/runtime';
import { parseSubject, SubjectError, type ForgetReport, type Subject } from '@tally/privacy';
import type { AdminTokens } from '../auth';

export interface PrivacyDeps {
  tokens: AdminTokens;
  /** `forget` of @tally/privacy over this instance's stores. */
  forget: (subject: Subject, requestedBy: string) => Promise<ForgetReport>;
}

const errorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};

// The same operation as `tally forget` (the CLI's --help lists what it changes).
const forgetSchema = {
  summary: 'Forget a person: delete their data in every store and keep their events out from now on',
  description:
    "Exactly one of `user_id` (a signed-in user) or `ip` (a guest). A tombstone is written first, so every sink skips the person's events from then on " +
    '(replays and late events included); then their raw-log rows are anonymized (user_id, ip and user agent removed; the events stay for the aggregates) ' +
    'and their history rows, per-user state, recommendation snapshot, per-user Redis keys and dead letters are deleted, in two sweeps a few seconds apart. ' +
    'Aggregate counts stay. An audit row records the token (by its public id), the time and the counts. Answers when both sweeps are done (about 5 s).',
  tags: ['admin'],
  security: [{ admin: [] }],
  body: {
    type: 'object',
    additionalProperties: false,
    // Exactly one of the two.
    minProperties: 1,
    maxProperties: 1,
    properties: {
      user_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'users.id of the person' },
      ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], description: 'a guest: the ip address their events carry' },
    },
  },
  response: {
    200: {
      description: 'Forgotten; what was removed or anonymized, per store',
      type: 'object',
      properties: {
        subject: { type: 'string', enum: ['user', 'ip'] },
        audit_id: { type: 'integer' },
        already_forgotten: { type: 'boolean' },
        removed: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
    400: { description: 'Not exactly one of user_id or ip, or not a valid one', ...errorBody },
    401: { description: 'Missing or unknown admin token', ...errorBody },
  },
};

/** POST /v1/admin/forget behind the admin token. */
export async function privacyRoutes(app: FastifyInstance, d: PrivacyDeps): Promise<void> {
  app.post(
    '/v1/admin/forget',
    {
      schema: forgetSchema,
      config: { rateLimit: {} },
      // The body is validated by parseSubject, so its errors name the field the way every Tally error does.
      validatorCompiler: () => () => true,
      preParsing: async (req: { headers: { authorization?: string | string[] }; tokenId?: string }, _reply: unknown, payload: unknown) => {
        req.tokenId = d.tokens.check(req.headers.authorization);
        return payload;
      },
    },
    async (req) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const extra = Object.keys(body).filter((k) => k !== 'user_id' && k !== 'ip');
      let subject: Subject;
      try {
        if (extra.length > 0) throw new SubjectError(extra[0]!, 'is not a field of this request (send user_id or ip)');
        if (body.user_id !== undefined && typeof body.user_id !== 'number')
          throw new SubjectError('user_id', 'must be a positive integer (users.id)');
        subject = parseSubject({ user: body.user_id, ip: body.ip });
      } catch (err) {
        if (err instanceof SubjectError) throw new TallyError('VALIDATION_FAILED', err.message, { httpStatus: 400 });
        throw err;
      }
      const r = await d.forget(subject, `admin-api:${(req as { tokenId?: string }).tokenId ?? 'unknown'}`);
      return { subject: r.subject, audit_id: r.auditId, already_forgotten: r.alreadyForgotten, removed: r.removed };
    },
  );
}
