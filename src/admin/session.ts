import type { Request, Response, NextFunction } from 'express';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { persistentSecret } from '../bootstrap.js';
import { randomToken, safeEqual, sha256 } from '../lib/crypto.js';
import { deleteSession, findSession, insertSession, purgeExpiredSessions } from './store.js';

export const SESSION_COOKIE = 'ag_session';
export const LOGIN_CSRF_COOKIE = 'ag_login_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_HOURS = 12;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminSession {
  idHash: Buffer;
  csrfToken: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The admin page session behind this request, when it carries a valid session cookie. */
    adminPageSession?: AdminSession;
  }
}

/** The admin password: ADMIN_PASSWORD, else the one generated on first start (kept in the data directory). Read lazily. */
let cachedPassword: { dataDir: string; value: string } | undefined;
export function adminPassword(ctx: AppContext): string {
  if (ctx.config.ADMIN_PASSWORD) return ctx.config.ADMIN_PASSWORD;
  if (cachedPassword?.dataDir !== ctx.config.DATA_DIR) {
    cachedPassword = { dataDir: ctx.config.DATA_DIR, value: persistentSecret(ctx.config, undefined, 'admin-password').value };
  }
  return cachedPassword.value;
}

/** Compares hashes so both sides have the same length and the comparison takes constant time. */
export function passwordMatches(ctx: AppContext, given: string): boolean {
  return safeEqual(sha256(given), sha256(adminPassword(ctx)));
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k || k in out) continue;
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[k] = part.slice(i + 1).trim();
    }
  }
  return out;
}

/** Secure when the request came over https (directly or through a trusted proxy) or the public URL is https. */
function isHttps(ctx: AppContext, req: Request) {
  return req.secure || Boolean(ctx.config.PUBLIC_URL?.startsWith('https:'));
}

export function setCookie(ctx: AppContext, req: Request, res: Response, name: string, value: string, maxAgeSeconds: number) {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
  if (isHttps(ctx, req)) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export async function createSession(ctx: AppContext, req: Request, res: Response): Promise<AdminSession> {
  const token = randomToken(32);
  const session = { idHash: sha256(token), csrfToken: randomToken(24) };
  const now = ctx.clock.now();
  await purgeExpiredSessions(ctx.db, now);
  await insertSession(ctx.db, { ...session, expiresAt: new Date(now.getTime() + SESSION_HOURS * 3600_000), userAgent: req.headers['user-agent'] });
  setCookie(ctx, req, res, SESSION_COOKIE, token, SESSION_HOURS * 3600);
  return session;
}

export async function endSession(ctx: AppContext, req: Request, res: Response) {
  if (req.adminPageSession) await deleteSession(ctx.db, req.adminPageSession.idHash);
  setCookie(ctx, req, res, SESSION_COOKIE, '', 0);
}

/** Reads the session cookie (if any) into req.adminPageSession. Never refuses by itself. */
export function loadSession(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
      if (token) {
        const row = await findSession(ctx.db, sha256(token), ctx.clock.now());
        if (row) req.adminPageSession = { idHash: row.id_hash, csrfToken: row.csrf_token };
      }
      next();
    } catch (e) {
      next(e);
    }
  };
}

export function csrfValid(req: Request, given: unknown): boolean {
  const s = req.adminPageSession;
  return Boolean(s && typeof given === 'string' && given && safeEqual(given, s.csrfToken));
}

/**
 * The hook before requireAdmin on /api: a valid session cookie marks the request as admin, and a mutating request
 * must also carry the session's CSRF token in X-CSRF-Token. Requests without a cookie fall through to the admin token.
 */
export function apiSession(ctx: AppContext) {
  const load = loadSession(ctx);
  return (req: Request, res: Response, next: NextFunction) => {
    // A Bearer token (the API's own credential, which no browser sends by itself) goes straight to requireAdmin.
    if (req.headers.authorization || !req.headers.cookie?.includes(`${SESSION_COOKIE}=`)) return next();
    void load(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (!req.adminPageSession) return next();
      if (!SAFE_METHODS.has(req.method) && !csrfValid(req, req.headers[CSRF_HEADER])) {
        return next(new HttpError(403, 'csrf', 'This request is missing the page\'s CSRF token; reload the page and try again'));
      }
      req.adminSession = true;
      next();
    });
  };
}

/** Slows password guessing: at most `max` failed logins per client address per window. */
export class LoginThrottle {
  private failures = new Map<string, { count: number; resetAt: number }>();
  constructor(private readonly max = 10, private readonly windowMs = 15 * 60_000) {}
  blocked(key: string, now: number): number {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) return 0;
    return f.count >= this.max ? Math.ceil((f.resetAt - now) / 1000) : 0;
  }
  fail(key: string, now: number) {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) this.failures.set(key, { count: 1, resetAt: now + this.windowMs });
    else f.count++;
    if (this.failures.size > 10_000) for (const [k, v] of this.failures) if (v.resetAt <= now) this.failures.delete(k);
  }
  succeed(key: string) {
    this.failures.delete(key);
  }
}
