import type { Router } from 'express';
import type { AppContext } from './context.js';
import { profileRoutes } from '../profiles/routes.js';
import { segmentRoutes } from '../segments/routes.js';
import { outboundRoutes } from '../outbound/routes.js';
import { surveyRoutes } from '../surveys/routes.js';
import { audienceRoutes } from '../audiences/routes.js';
import { adminApiRoutes, adminPageRoutes } from '../admin/routes.js';

/** Routers mounted at /api/workspaces/:workspaceId (admin auth and the workspace are already checked). One line per area. */
export function workspaceScopedRoutes(ctx: AppContext): Router[] {
  return [profileRoutes(ctx), segmentRoutes(ctx), outboundRoutes(ctx), surveyRoutes(ctx), audienceRoutes(ctx), adminApiRoutes(ctx)];
}

/** Top-level routers outside /api (the admin page). */
export function pageRoutes(ctx: AppContext): Router[] {
  return [adminPageRoutes(ctx)];
}
