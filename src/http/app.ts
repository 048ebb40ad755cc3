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
import { workspaceScopedRoutes, pageRoutes } from './routes.js';
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

  // The ingest hot path reads its own bodies (size limits, gzip, raw bytes for signatures).
  app.use(ingestRouter(ctx));
  app.use(surveyIngestRouter(ctx));
  app.use(healthRoutes(ctx));
  for (const mount of pageRoutes(ctx)) app.use(mount);

  const api = express.Router();
  api.use(express.json({ limit: '5mb' }));
  api.use(apiSession(ctx)); // admin page session cookie (+ CSRF on writes) → req.adminSession
  api.use(requireAdmin(ctx));
  loadWorkspaceParam(ctx, api);
  api.use('/workspaces', workspaceRoutes(ctx));
  for (const router of workspaceScopedRoutes(ctx)) api.use('/workspaces/:workspaceId', router);
  app.use('/api', api);

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `No route for ${req.method} ${req.path}`)));
  app.use(errorHandler);

  const hot = ingestHotPath(ctx);
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!hot(req, res)) app(req, res);
  };
  return Object.assign(listener, { express: app });
}
