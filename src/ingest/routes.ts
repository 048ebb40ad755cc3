import express, { type Request, type Response, type NextFunction } from 'express';
import crypto from 'node:crypto';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { safeEqual } from '../lib/crypto.js';
import { readJson } from './body.js';
import { requireIngestKey } from './auth.js';
import { rateLimit } from './rate-limit.js';
import { ingestBatch, ingestOne, MESSAGE_LIMIT, BATCH_LIMIT } from './ingest.js';


/**
 * Browsers running analytics.js post from the customer's own origin. The ingest key only writes, like
 * Segment's write key, so any origin may send (no cookies are involved).
 */
function cors(req: Request, res: Response, next: NextFunction) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method !== 'OPTIONS') return next();
  res.setHeader('Access-Control-Allow-Methods', 'POST');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Content-Encoding');
  res.setHeader('Access-Control-Max-Age', '86400');
  res.status(204).end();
}

const many = (req: Request) => {
  const b = req.body as { batch?: unknown[] } | unknown[];
  return Array.isArray(b) ? b.length : Array.isArray(b?.batch) ? b.batch.length : 1;
};

/** Segment's Webhooks destination signs with the workspace's shared secret: hex HMAC-SHA1 of the body. */
function verifySegmentSignature(ctx: AppContext) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const sealed = req.workspace?.webhook_secret_enc;
    if (!sealed) return next();
    const secret = ctx.secrets.decrypt(sealed);
    const given = String(req.headers['x-signature'] ?? '');
    const sign = (data: string | Buffer) => crypto.createHmac('sha1', secret).update(data).digest('hex');
    const candidates = [sign(req.rawBody ?? Buffer.alloc(0))];
    if (Array.isArray(req.body) && req.body.length) candidates.push(sign(JSON.stringify(req.body[0])));
    if (given && candidates.some((c) => safeEqual(c, given.toLowerCase()))) return next();
    next(new HttpError(401, 'bad_signature', 'X-Signature does not match the workspace shared secret'));
  };
}

/**
 * The ingest routes Express serves: CORS preflights for /v1 and Segment's Webhooks destination. The tracking-API
 * POSTs (/v1/segment, /v1/track, /v1/batch…) are served by the hot path (hot-path.ts) before Express.
 */
export function ingestRouter(ctx: AppContext) {
  const router = express.Router();
  router.use('/v1', cors);
  const batch = [readJson(BATCH_LIMIT), requireIngestKey(ctx), rateLimit(ctx, many)];

  router.post('/v1/webhooks/segment', ...batch, verifySegmentSignature(ctx), async (req, res) => {
    if (Array.isArray(req.body)) res.json(await ingestBatch(ctx, req.workspaceId, req.body));
    else if ((req.rawBody?.length ?? 0) > MESSAGE_LIMIT) throw new HttpError(413, 'too_large', `One message is limited to ${MESSAGE_LIMIT / 1024} KB`);
    else res.json(await ingestOne(ctx, req.workspaceId, req.body));
  });

  return router;
}
