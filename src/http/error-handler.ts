import type { Request, Response, NextFunction } from 'express';
import crypto from 'node:crypto';
import { HttpError, jsonSyntaxMessage } from './errors.js';
import { isConnectionError, isDataError } from '../db/knex.js';
import { logger } from '../lib/logger.js';

export interface ErrorAnswer { status: number; body: unknown; retryAfter?: string }

/**
 * What an error becomes on the wire, logged once. `path` picks the shape: the ingest surface (/v1) answers in
 * Segment's ({success: false, code, message}), everything else in ours ({error: {code, message, details}}).
 */
export function answerFor(err: unknown, requestId: string | undefined, path: string): ErrorAnswer {
  let status = 500;
  let code = 'internal';
  let message = 'Something went wrong on our side';
  let details: unknown;
  let retryAfter: string | undefined;
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
    logger.warn({ requestId, path, pgCode: (err as { code?: string }).code }, 'value refused by the database');
  } else if (isConnectionError(err)) {
    status = 503; code = 'unavailable'; message = 'The database is unreachable; retry shortly';
    retryAfter = '1';
  }
  if (status === 503) {
    // An outage is one cause behind many requests: a warning per request, without a stack each time.
    logger.warn({ requestId, path, cause: (err as Error)?.message }, 'database unreachable');
  } else if (status >= 500) {
    const id = requestId ?? crypto.randomUUID();
    logger.error({ err, requestId: id, path }, 'request failed');
    if (status === 500) message = `${message} (request ${id})`;
  }
  const body = path.startsWith('/v1/')
    ? { success: false, code, message, ...(details ? { issues: details } : {}) }
    : { error: { code, message, ...(details !== undefined ? { details } : {}) } };
  return { status, body, retryAfter };
}

/** Errors become JSON (see `answerFor`). Unknown errors never leak their text. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const answer = answerFor(err, req.requestId, req.path);
  if (res.headersSent) return;
  if (answer.retryAfter) res.setHeader('Retry-After', answer.retryAfter);
  res.status(answer.status).json(answer.body);
}
