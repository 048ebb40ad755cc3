import type { Request, Response, NextFunction } from 'express';
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logger } from '../lib/logger.js';

declare module 'express-serve-static-core' {
  interface Request { requestId: string }
}

/** A caller's own request id is kept when it looks like one (a load balancer's or Segment's), else a new one. */
const GOOD_ID = /^[\w.:-]{1,128}$/;

/**
 * Request ids and one structured log line per request: `x-request-id` is read (or made) and echoed back,
 * and on finish we log method, path (never the query string), status and duration. Successful requests on
 * the hot paths (ingest, audience and eligibility checks) log at debug; everything else at info, 4xx at warn,
 * 5xx at error.
 */
const HOT_PATH = /^\/v1\/|\/(check|eligibility)(\/|$)/;

/**
 * Starts the request's log line: reads or makes its id, echoes it back, logs when the answer is finished.
 * Works on plain node:http objects too (the ingest hot path runs before Express).
 */
export function trackRequest(req: IncomingMessage & { requestId?: string; workspaceId?: string; originalUrl?: string }, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && GOOD_ID.test(given) ? given : crypto.randomUUID();
  req.requestId = requestId;
  res.setHeader('x-request-id', requestId);
  const started = performance.now();
  res.on('finish', () => {
    const status = res.statusCode;
    const url = req.originalUrl ?? req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : HOT_PATH.test(path) ? 'debug' : 'info';
    // A line that would not be written costs nothing more (successful hot-path requests at the default level).
    if (!logger.isLevelEnabled(level)) return;
    logger[level]({
      requestId,
      method: req.method,
      path,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...(req.workspaceId ? { workspaceId: req.workspaceId } : {}),
    }, 'request');
  });
  return requestId;
}

export function requestLog() {
  return (req: Request, res: Response, next: NextFunction) => {
    trackRequest(req, res);
    next();
  };
}
