import express, { type Express } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from './context.js';
import { errorHandler } from './error-handler.js';
import { requireAdmin, loadWorkspaceParam } from './auth.js';
import { healthRoutes } from './health.js';
import { ingestRouter } from '../ingest/routes.js';
import { ingestHotPath } from '../ingest/hot-path.js';
import { surveyIngestRouter } from '../surveys/routes.js';
import { workspaceRoutes } from '../workspaces/routes.js';
import { hotScopedRoutes, workspaceScopedRoutes, pageRoutes } from './routes.js';
import { HttpError } from './errors.js';
import { requestLog } from './request-log.js';
import { adminSecurityHeaders } from './security-headers.js';
import { watchQueues } from './queue-gauges.js';
import { apiSession } from '../admin/session.js';

/** The gateway's request listener: the ingest hot path first, Express for everything else (`express`). */
export type GatewayApp = ((req: IncomingMessage, res: ServerResponse) => void) & { express: Express };

export function createApp(ctx: AppContext): GatewayApp {
  const app = express();
  watchQueues(ctx.db);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(requestLog());
  app.use('/admin', adminSecurityHeaders());

  // The management API first: no router below serves /api, and each one a request enters without a match
  // costs a walk of its routes and an event-loop hop (setImmediate) before the next.
  const api = express.Router();
  const json = express.json({ limit: '5mb' });
  // Requests without a body (every GET, the checks among them) skip the parser: it would conclude the same.
  api.use((req, res, next) => {
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return json(req, res, next);
    const r: { body?: unknown } = req;
    if (!('body' in r)) r.body = undefined;
    next();
  });
  api.use(apiSession(ctx)); // admin page session cookie (+ CSRF on writes) → req.adminSession
  api.use(requireAdmin(ctx));
  loadWorkspaceParam(ctx, api);
  for (const r of hotScopedRoutes(ctx)) api.get(`/workspaces/:workspaceId${r.path}`, r.handler);
  api.use('/workspaces', workspaceRoutes(ctx));
  for (const router of workspaceScopedRoutes(ctx)) api.use('/workspaces/:workspaceId', router);
  app.use('/api', api);

  // Ingest on Express (Webhooks destination, CORS preflights) and surveys read their own bodies (size limits, gzip,
  // raw bytes for signatures); the tracking-API POSTs never reach Express (the hot path below).
  app.use(ingestRouter(ctx));
  app.use(surveyIngestRouter(ctx));
  app.use(healthRoutes(ctx));
  for (const mount of pageRoutes(ctx)) app.use(mount);

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)));
  app.use(errorHandler);

  const hot = ingestHotPath(ctx);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!hot(req, res)) app(req, res);
  };
  return Object.assign(listener, { express: app });
}
