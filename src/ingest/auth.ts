import type { Request, Response, NextFunction } from 'express';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { bearerToken } from '../http/auth.js';
import { safeEqual, sha256 } from '../lib/crypto.js';
import { findWorkspaceByKeyHash, type WorkspaceRow } from '../workspaces/store.js';

const TTL_MS = 10_000;
const cache = new Map<string, { workspace: WorkspaceRow; hash: Buffer; until: number }>();

/** Forget cached keys (after a rotation in this process; other processes expire theirs within TTL_MS). */
export function forgetIngestKeys(workspaceId?: string) {
  for (const [k, v] of cache) if (!workspaceId || v.workspace.id === workspaceId) cache.delete(k);
}

/** The ingest key, from Basic auth (user name, empty password), a Bearer token or `writeKey` in the body. */
function presentedKey(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (h && /^Basic\s+/i.test(h)) {
    const decoded = Buffer.from(h.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return (i >= 0 ? decoded.slice(0, i) : decoded) || undefined;
  }
  const bearer = bearerToken(req);
  if (bearer) return bearer;
  const body = req.body as { writeKey?: unknown } | undefined;
  return body && typeof body === 'object' && typeof body.writeKey === 'string' ? body.writeKey : undefined;
}

export function requireIngestKey(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const key = presentedKey(req);
    if (!key || key.length > 200) return next(new HttpError(401, 'unauthorized', 'Missing or unknown ingest key'));
    const hash = sha256(key);
    const hex = hash.toString('hex');
    const now = Date.now();
    let hit = cache.get(hex);
    if (!hit || hit.until < now) {
      const row = await findWorkspaceByKeyHash(ctx.db, hash);
      if (!row) return next(new HttpError(401, 'unauthorized', 'Missing or unknown ingest key'));
      const { ingest_key_hash, ...workspace } = row;
      hit = { workspace, hash: ingest_key_hash, until: now + TTL_MS };
      cache.set(hex, hit);
    }
    if (!safeEqual(hash, hit.hash)) return next(new HttpError(401, 'unauthorized', 'Missing or unknown ingest key'));
    req.workspace = hit.workspace;
    req.workspaceId = hit.workspace.id;
    next();
  };
}
