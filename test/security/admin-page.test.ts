import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { useGateway } from '../helpers/gateway.js';

/**
 * The admin page: security headers, the session cookie's flags, and CSRF on the login form and on every
 * state-changing API call made with a session (a session alone, as a cross-site form would send, is refused).
 */
const PASSWORD = 'page-password-123456';
const gw = useGateway({ ADMIN_PASSWORD: PASSWORD });

const cookieOf = (res: request.Response, name: string) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));

async function login() {
  const form = await gw.http.get('/admin/login').expect(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)?.[1];
  const loginCookie = cookieOf(form, 'ag_login_csrf')!.split(';')[0];
  const res = await gw.http.post('/admin/login').set('Cookie', loginCookie).type('form').send({ csrf, password: PASSWORD }).expect(303);
  const session = cookieOf(res, 'ag_session')!;
  const shell = await gw.http.get('/admin').set('Cookie', session.split(';')[0]).expect(200);
  const pageCsrf = /<meta name="csrf-token" content="([^"]+)"/.exec(shell.text)?.[1];
  return { session, cookie: session.split(';')[0], pageCsrf };
}

describe('admin page', () => {
  it('is served with strict security headers', async () => {
    const res = await gw.http.get('/admin/login').expect(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeTruthy();
    expect(res.headers['strict-transport-security']).toBeTruthy();
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('refuses a login without the form\'s CSRF token, and issues an HttpOnly SameSite session cookie', async () => {
    await gw.http.post('/admin/login').type('form').send({ password: PASSWORD }).expect(403);
    const form = await gw.http.get('/admin/login');
    const loginCookie = cookieOf(form, 'ag_login_csrf')!.split(';')[0];
    await gw.http.post('/admin/login').set('Cookie', loginCookie).type('form').send({ csrf: 'forged-token-value-000000', password: PASSWORD }).expect(403);
    const { session } = await login();
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=(Strict|Lax)/i);
  });

  it('a session reads the API, but writes need the page\'s CSRF token', async () => {
    const { cookie, pageCsrf } = await login();
    expect(pageCsrf).toBeTruthy();
    await gw.http.get('/api/workspaces').set('Cookie', cookie).expect(200);
    const before = await gw.database.db('workspaces').count({ n: '*' });
    await gw.http.post('/api/workspaces').set('Cookie', cookie).send({ name: 'csrf-less' }).expect(403);
    await gw.http.post('/api/workspaces').set('Cookie', cookie).set('x-csrf-token', 'forged-token-value-000000').send({ name: 'forged' }).expect(403);
    const ws = await gw.api.post('/api/workspaces').send({ name: 'target' }).expect(201);
    await gw.http.post(`/api/workspaces/${ws.body.id}/ingest-key/rotate`).set('Cookie', cookie).expect(403);
    await gw.http.patch(`/api/workspaces/${ws.body.id}`).set('Cookie', cookie).send({ name: 'renamed' }).expect(403);
    const after = await gw.database.db('workspaces').count({ n: '*' });
    expect(Number(after[0].n)).toBe(Number(before[0].n) + 1); // only the Bearer-token create landed
    await gw.http.post('/api/workspaces').set('Cookie', cookie).set('x-csrf-token', pageCsrf!).send({ name: 'with-token' }).expect(201);
  });

  it('a forged or expired session cookie is no session', async () => {
    await gw.http.get('/api/workspaces').set('Cookie', 'ag_session=forged-session-token').expect(401);
    const page = await gw.http.get('/admin').set('Cookie', 'ag_session=forged-session-token');
    expect(page.status).toBe(303);
    expect(page.headers.location).toMatch(/^\/admin\/login/);
  });
});
