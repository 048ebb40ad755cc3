import type { Request, Response, NextFunction, Router } from 'express';
import type { AppContext } from './context.js';
import { HttpError } from './errors.js';
import { safeEqual } from '../lib/crypto.js';
import { getWorkspace, type WorkspaceRow } from '../workspaces/store.js';

declare module 'express-serve-static-core' {
  interface Request {
    workspaceId: string;
    workspace?: WorkspaceRow;
    /** Set by the admin page's session middleware when the request carries a valid session (and CSRF token for writes). */
    adminSession?: boolean;
  }
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m ? m[1].trim() : undefined;
}

/** The management API: the admin token as a Bearer token, or an admin page session. */
export function requireAdmin(ctx: AppContext) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (req.adminSession) return next();
    const token = bearerToken(req);
    if (token && safeEqual(token, ctx.adminToken)) return next();
    next(new HttpError(401, 'unauthorized', 'Send the admin token as "Authorization: Bearer <token>"'));
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: string) => UUID.test(v);

/** Workspaces resolved recently (per process): hot read paths (audience checks) skip the lookup. */
const WORKSPACE_TTL_MS = 2_000;
const workspaceCache = new Map<string, { ws: WorkspaceRow; until: number }>();

/** Forget a cached workspace after changing it in this process (other processes expire theirs within the TTL). */
export function forgetWorkspace(id: string) {
  workspaceCache.delete(id);
}

/** Resolves `:workspaceId` once per request; an unknown or malformed id is a 404. */
export function loadWorkspaceParam(ctx: AppContext, router: Router) {
  router.param('workspaceId', async (req, _res, next, id: string) => {
    try {
      if (!isUuid(id)) throw new HttpError(404, 'not_found', 'Workspace not found');
      const now = Date.now();
      const hit = workspaceCache.get(id);
      let ws = hit && hit.until >= now ? hit.ws : undefined;
      if (!ws) {
        ws = await getWorkspace(ctx.db, id);
        if (ws) workspaceCache.set(id, { ws, until: now + WORKSPACE_TTL_MS });
        else workspaceCache.delete(id);
      }
      if (!ws) throw new HttpError(404, 'not_found', 'Workspace not found');
      req.workspace = ws;
      req.workspaceId = ws.id;
      next();
    } catch (e) {
      next(e);
    }
  });
}
