import express, { type Request, type Response, type NextFunction } from 'express';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { validateQuery } from '../http/validate.js';
import { randomToken, safeEqual } from '../lib/crypto.js';
import { loginPage, shellPage } from './html.js';
import {
  LOGIN_CSRF_COOKIE, LoginThrottle, createSession, csrfValid, endSession, loadSession, parseCookies, passwordMatches, setCookie,
} from './session.js';
import { countEvents, membershipLog, nameSuggestions, recentEvents, segmentSizes, sizeHistory } from './store.js';
import { presentLogEntry, presentRecentEvent, presentSizePoint } from './presenter.js';

/** The page's static modules: next to this file in the source tree (tsx), or looked up from the project root. */
function publicDir() {
  const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
  return fs.existsSync(here) ? here : path.resolve('src/admin/public');
}

/** Only paths of the admin page itself are followed after login (no open redirect). */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[\w\-./%?=&]*)?$/.test(value) && !value.includes('//') ? value : '/admin';
}

function publicUrl(ctx: AppContext, req: Request) {
  return (ctx.config.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}`).replace(/\/$/, '');
}

function requirePageSession(req: Request, res: Response, next: NextFunction) {
  if (req.adminPageSession) return next();
  res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** The admin page: /admin (login, logout, the shell and its static modules). */
export function adminPageRoutes(ctx: AppContext) {
  const router = express.Router();
  const throttle = new LoginThrottle();
  const dir = publicDir();
  const assets = express.static(dir, { index: false, maxAge: 0 });

  // Security headers (CSP self only, nosniff, no framing) come from adminSecurityHeaders() in src/http/app.ts.
  router.use('/admin', loadSession(ctx), (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/admin/login', (req, res) => {
    if (req.adminPageSession) return res.redirect(303, safeNext(req.query.next));
    const csrf = randomToken(24);
    setCookie(ctx, req, res, LOGIN_CSRF_COOKIE, csrf, 3600);
    res.type('html').send(loginPage({ csrf, next: typeof req.query.next === 'string' ? safeNext(req.query.next) : undefined }));
  });

  router.post('/admin/login', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = typeof body.next === 'string' ? safeNext(body.next) : undefined;
    const renderError = (status: number, error: string) => {
      const csrf = randomToken(24);
      setCookie(ctx, req, res, LOGIN_CSRF_COOKIE, csrf, 3600);
      res.status(status).type('html').send(loginPage({ csrf, error, next }));
    };
    const cookieCsrf = parseCookies(req.headers.cookie)[LOGIN_CSRF_COOKIE];
    if (!cookieCsrf || typeof body.csrf !== 'string' || !safeEqual(cookieCsrf, body.csrf)) {
      return renderError(403, 'The sign-in form expired. Please enter the password again.');
    }
    const who = req.ip ?? 'unknown';
    const now = ctx.clock.now().getTime();
    const wait = throttle.blocked(who, now);
    if (wait) {
      res.setHeader('Retry-After', String(wait));
      return renderError(429, `Too many wrong passwords. Try again in ${Math.ceil(wait / 60)} minutes.`);
    }
    if (typeof body.password !== 'string' || !body.password) return renderError(400, 'Enter the admin password.');
    if (!passwordMatches(ctx, body.password)) {
      throttle.fail(who, now);
      return renderError(401, 'That password is not right. Check for typing mistakes and try again.');
    }
    throttle.succeed(who);
    setCookie(ctx, req, res, LOGIN_CSRF_COOKIE, '', 0);
    await createSession(ctx, req, res);
    res.redirect(303, next ?? '/admin');
  });

  router.post('/admin/logout', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    if (req.adminPageSession && !csrfValid(req, (req.body as Record<string, unknown> | undefined)?.csrf ?? req.headers['x-csrf-token'])) {
      throw new HttpError(403, 'csrf', 'The sign-out form expired; reload the page and try again');
    }
    await endSession(ctx, req, res);
    res.redirect(303, '/admin/login');
  });

  // The stylesheet is public (the login page uses it); the page's scripts need a session.
  router.get('/admin/assets/style.css', (_req, res) => res.sendFile(path.join(dir, 'style.css')));
  router.use('/admin/assets', (req, _res, next) => {
    if (!req.adminPageSession) return next(new HttpError(401, 'unauthorized', 'Sign in to the admin page first'));
    next();
  }, assets, (req) => {
    throw new HttpError(404, 'not_found', `No file ${req.path}`);
  });

  router.get(['/admin', '/admin/{*rest}'], requirePageSession, (req, res) => {
    res.type('html').send(shellPage({ csrf: req.adminPageSession!.csrfToken, publicUrl: publicUrl(ctx, req) }));
  });

  return router;
}

const RecentQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(25),
  afterId: z.string().regex(/^\d+$/, 'must be an event id').optional(),
});
const LogQuery = z.object({
  segmentId: z.uuid(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const HistoryQuery = z.object({
  segmentIds: z.string().transform((s) => s.split(',').filter(Boolean)).pipe(z.array(z.uuid()).max(500)),
  points: z.coerce.number().int().min(1).max(500).default(30),
});

/** Small read-only endpoints the admin page needs, mounted at /api/workspaces/:workspaceId. */
export function adminApiRoutes(ctx: AppContext) {
  const router = express.Router({ mergeParams: true });

  router.get('/events/recent', validateQuery(RecentQuery), async (req, res) => {
    const q = res.locals.query as z.infer<typeof RecentQuery>;
    const [events, total] = await Promise.all([recentEvents(ctx.db, req.workspaceId, q.limit, q.afterId), countEvents(ctx.db, req.workspaceId)]);
    res.json({ events: events.map(presentRecentEvent), total });
  });

  router.get('/suggestions', async (req, res) => {
    res.json(await nameSuggestions(ctx.db, req.workspaceId));
  });

  router.get('/membership-log', validateQuery(LogQuery), async (req, res) => {
    const q = res.locals.query as z.infer<typeof LogQuery>;
    res.json({ entries: (await membershipLog(ctx.db, req.workspaceId, q.segmentId, q.limit)).map(presentLogEntry) });
  });

  router.get('/size-history', validateQuery(HistoryQuery), async (req, res) => {
    const q = res.locals.query as z.infer<typeof HistoryQuery>;
    const [byId, sizes] = await Promise.all([sizeHistory(ctx.db, req.workspaceId, q.segmentIds, q.points), segmentSizes(ctx.db, req.workspaceId, q.segmentIds)]);
    res.json({
      history: Object.fromEntries(q.segmentIds.map((id) => [id, (byId.get(id) ?? []).map(presentSizePoint)])),
      sizes: Object.fromEntries([...sizes]),
    });
  });

  return router;
}
