import type { Router } from 'express';
import type { AppContext } from './context.js';
import { profileRoutes } from '../profiles/routes.js';
import { outboundRoutes } from '../outbound/routes.js';
import { surveyRoutes } from '../surveys/routes.js';
import { audienceRoutes } from '../audiences/routes.js';

/** Routers mounted at /api/workspaces/:workspaceId (admin auth and the workspace are already checked). One line per area. */
export function workspaceScopedRoutes(ctx: AppContext): Router[] {
  return [profileRoutes(ctx), outboundRoutes(ctx), surveyRoutes(ctx), audienceRoutes(ctx)];
}

/** Top-level routers outside /api (the admin page). */
export function pageRoutes(_ctx: AppContext): Router[] {
  return [];
}
