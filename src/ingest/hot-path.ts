import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response, NextFunction } from 'express';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { answerFor } from '../http/error-handler.js';
import { trackRequest } from '../http/request-log.js';
import { readJson } from './body.js';
import { requireIngestKey } from './auth.js';
import { rateLimit } from './rate-limit.js';
import { BatchBody } from './schema.js';
import { ingestBatch, ingestOne, MESSAGE_LIMIT, BATCH_LIMIT } from './ingest.js';

type Gate = (req: Request, res: Response, next: NextFunction) => unknown;
type Handler = (ctx: AppContext, req: Request) => Promise<unknown>;
interface HotRoute { gates: Gate[]; handle: Handler }

const SPEC_TYPES = ['identify', 'track', 'group', 'page', 'screen', 'alias'] as const;
/** analytics.js (Analytics 2.0) posts to /v1/<first letter of the type>, and to /v1/b in batching mode. */
const SHORT_PATHS = { i: 'identify', t: 'track', g: 'group', p: 'page', s: 'screen', a: 'alias' } as const;
const BATCH_PATHS = ['/v1/batch', '/v1/import', '/v1/b'];

const one = () => 1;
const many = (req: Request) => {
  const b = req.body as { batch?: unknown[] } | undefined;
  return Array.isArray(b?.batch) ? b.batch.length : 1;
};

const single = (type?: string): Handler => (ctx, req) => ingestOne(ctx, req.workspaceId, req.body, type);

const batch: Handler = (ctx, req) => {
  const parsed = BatchBody.safeParse(req.body);
  if (!parsed.success) throw new HttpError(400, 'invalid', 'A batch is {"batch": [messages]} with at most 10,000 messages', parsed.error.issues);
  const { batch: messages, context, integrations, sentAt } = parsed.data;
  return ingestBatch(ctx, req.workspaceId, messages, { context, integrations, sentAt });
};

/** Every path the hot path serves (POST only): the security tests check each of them like Express's routes. */
export const HOT_INGEST_PATHS = [
  '/v1/segment',
  ...SPEC_TYPES.map((t) => `/v1/${t}`),
  ...Object.keys(SHORT_PATHS).map((s) => `/v1/${s}`),
  ...BATCH_PATHS,
];

function routeTable(ctx: AppContext): Map<string, HotRoute> {
  const singleGates = [readJson(MESSAGE_LIMIT), requireIngestKey(ctx), rateLimit(ctx, one)];
  const batchGates = [readJson(BATCH_LIMIT), requireIngestKey(ctx), rateLimit(ctx, many)];
  const table = new Map<string, HotRoute>([['/v1/segment', { gates: singleGates, handle: single() }]]);
  for (const type of SPEC_TYPES) table.set(`/v1/${type}`, { gates: singleGates, handle: single(type) });
  for (const [short, type] of Object.entries(SHORT_PATHS)) table.set(`/v1/${short}`, { gates: singleGates, handle: single(type) });
  for (const path of BATCH_PATHS) table.set(path, { gates: batchGates, handle: batch });
  return table;
}

/** Express routes paths case-insensitively and with an optional trailing slash: the hot path does the same. */
function routeKey(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  let path = (q >= 0 ? url!.slice(0, q) : url ?? '').toLowerCase();
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path;
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The ingest POSTs served straight from node:http, before Express. They are most of the traffic, and Express's
 * per-request work (router walk, req/res decoration, res.json) cost as much CPU as storing the event: measured
 * in docs/ingest.md. The gates and handlers are the same functions an Express route would chain; errors are
 * answered by the same `answerFor` as the Express error handler. Returns false for anything else.
 */
export function ingestHotPath(ctx: AppContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  const table = routeTable(ctx);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const route = table.get(routeKey(req.url));
    if (!route) return false;
    const r = req as unknown as Request;
    const requestId = trackRequest(r, res);
    // Browsers running analytics.js post from the customer's own origin; the key only writes (see routes.ts).
    res.setHeader('Access-Control-Allow-Origin', '*');
    const fail = (err: unknown) => {
      const answer = answerFor(err, requestId, routeKey(req.url));
      if (res.headersSent) return;
      if (answer.retryAfter) res.setHeader('Retry-After', answer.retryAfter);
      sendJson(res, answer.status, answer.body);
    };
    let i = 0;
    const next = (err?: unknown) => {
      if (err) return fail(err);
      const gate = route.gates[i++];
      if (!gate) {
        route.handle(ctx, r).then((body) => sendJson(res, 200, body), fail);
        return;
      }
      try {
        const out = gate(r, res as unknown as Response, next) as Promise<unknown> | undefined;
        if (out && typeof out.then === 'function') out.then(undefined, fail);
      } catch (e) {
        fail(e);
      }
    };
    next();
    return true;
  };
}
