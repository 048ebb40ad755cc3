import type { Request, Response, NextFunction } from 'express';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';

interface Bucket { tokens: number; at: number }
const buckets = new Map<string, Bucket>();

/**
 * Per-workspace token bucket (per process): `rate` messages a second with a burst of one second's worth.
 * Off unless the workspace or INGEST_RATE_LIMIT sets a rate.
 */
export function takeTokens(workspaceId: string, rate: number, n: number, now = Date.now()): number {
  const b = buckets.get(workspaceId) ?? { tokens: rate, at: now };
  b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  buckets.set(workspaceId, b);
  if (b.tokens >= n || (n > rate && b.tokens >= rate)) {
    b.tokens -= n;
    return 0;
  }
  return Math.ceil(((n - b.tokens) / rate) * 1000);
}

export function rateLimit(ctx: AppContext, countMessages: (req: Request) => number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const rate = req.workspace?.rate_limit_per_sec ?? ctx.config.INGEST_RATE_LIMIT;
    if (!rate) return next();
    const waitMs = takeTokens(req.workspaceId, rate, Math.max(1, countMessages(req)));
    if (!waitMs) return next();
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))));
    next(new HttpError(429, 'rate_limited', `This workspace is over its rate of ${rate} messages a second; retry later`));
  };
}
