import type { Router } from 'express';
import type { AppContext, HotRoute } from './context.js';
import { profileRoutes } from '../profiles/routes.js';
import { segmentRoutes } from '../segments/routes.js';
import { outboundRoutes } from '../outbound/routes.js';
import { surveyHotRoutes, surveyRoutes } from '../surveys/routes.js';
import { audienceHotRoutes, audienceRoutes } from '../audiences/routes.js';
import { adminApiRoutes, adminPageRoutes } from '../admin/routes.js';

/** Routers mounted at /api/workspaces/:workspaceId (admin auth and the workspace are already checked). One line per area. */
export function workspaceScopedRoutes(ctx: AppContext): Router[] {
  return [profileRoutes(ctx), segmentRoutes(ctx), outboundRoutes(ctx), surveyRoutes(ctx), audienceRoutes(ctx), adminApiRoutes(ctx)];
}

/**
 * Hot read paths (audience and survey eligibility checks), mounted at /api/workspaces/:workspaceId as routes
 * of the API router itself, after admin auth and the workspace param. Matched there, a check skips walking
 * the ~60 routes of the area routers and the event-loop hop (setImmediate) each router that does not match
 * costs: together about a third of a check's CPU (bench/audience-check.ts).
 */
export function hotScopedRoutes(ctx: AppContext): HotRoute[] {
  return [...audienceHotRoutes(ctx), ...surveyHotRoutes(ctx)];
}

/** Top-level routers outside /api (the admin page). */
export function pageRoutes(ctx: AppContext): Router[] {
  return [adminPageRoutes(ctx)];
}
