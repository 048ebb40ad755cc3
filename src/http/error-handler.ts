import type { Request, Response, NextFunction } from 'express';
import crypto from 'node:crypto';
import { HttpError, jsonSyntaxMessage } from './errors.js';
import { isConnectionError, isDataError } from '../db/knex.js';
import { logger } from '../lib/logger.js';

/**
 * Errors become JSON. The ingest surface (/v1) answers in Segment's shape ({success: false, code, message});
 * everything else in ours ({error: {code, message, details}}). Unknown errors never leak their text.
 */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  let status = 500;
  let code = 'internal';
  let message = 'Something went wrong on our side';
  let details: unknown;
  const e = err as { type?: string; status?: number; message?: string };
  if (err instanceof HttpError) {
    ({ status, code, message, details } = err);
  } else if (e?.type === 'entity.parse.failed') {
    status = 400; code = 'invalid'; message = jsonSyntaxMessage(err);
  } else if (e?.type === 'entity.too.large') {
    status = 413; code = 'too_large'; message = 'The body is too large';
  } else if (isDataError(err)) {
    // PostgreSQL refused a value (class 22: bad encoding, out-of-range date or number, malformed uuid...):
    // the input is at fault, so a 400 that Segment will not retry forever, never a 500.
    status = 400; code = 'invalid'; message = 'A value in the request cannot be stored (out of range or invalid characters)';
    logger.warn({ requestId: req.requestId, path: req.path, pgCode: (err as { code?: string }).code }, 'value refused by the database');
  } else if (isConnectionError(err)) {
    status = 503; code = 'unavailable'; message = 'The database is unreachable; retry shortly';
    res.setHeader('Retry-After', '1');
  }
  if (status === 503) {
    // An outage is one cause behind many requests: a warning per request, without a stack each time.
    logger.warn({ requestId: req.requestId, path: req.path, cause: (err as Error)?.message }, 'database unreachable');
  } else if (status >= 500) {
    const requestId = req.requestId ?? crypto.randomUUID();
    logger.error({ err, requestId, path: req.path }, 'request failed');
    if (status === 500) message = `${message} (request ${requestId})`;
  }
  if (res.headersSent) return;
  if (req.path.startsWith('/v1/')) {
    res.status(status).json({ success: false, code, message, ...(details ? { issues: details } : {}) });
  } else {
    res.status(status).json({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
  }
}
