import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { useGateway } from '../helpers/gateway.js';

const PASSWORD = 'correct horse battery staple';
const gw = useGateway({ ADMIN_PASSWORD: PASSWORD });

/** Logs in like the browser does: GET the form (login CSRF cookie + field), POST it. Returns the cookie and CSRF token. */
async function login(agent = request.agent(gw.app), password = PASSWORD) {
  const form = await agent.get('/admin/login').expect(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
  const res = await agent.post('/admin/login').type('form').send({ csrf, password });
  return { agent, res };
}

async function loggedIn() {
  const { agent, res } = await login();
  expect(res.status).toBe(303);
  const shell = await agent.get('/admin').expect(200);
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(shell.text)![1];
  return { agent, csrf };
}

describe('admin page session', () => {
  it('refuses pages, scripts and the API without a session', async () => {
    const page = await gw.http.get('/admin/w/x/segments').expect(303);
    expect(page.headers.location).toBe('/admin/login?next=%2Fadmin%2Fw%2Fx%2Fsegments');
    await gw.http.get('/admin').expect(303);
    await gw.http.get('/admin/assets/app.js').expect(401);
    await gw.http.get('/admin/assets/views/builder.js').expect(401);
    await gw.http.get('/admin/assets/style.css').expect(200); // the login page's stylesheet
    await gw.http.get('/api/workspaces').expect(401);
    await gw.http.get('/api/workspaces').set('Cookie', 'ag_session=forged').expect(401);
  });

  it('logs in with the password and sets a strict HTTP-only cookie', async () => {
    const { agent, res } = await login();
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin');
    const cookie = [res.headers['set-cookie']].flat().find((c: string) => c.startsWith('ag_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    await agent.get('/admin').expect(200).expect('Content-Type', /html/);
    await agent.get('/admin/assets/app.js').expect(200);
    await agent.get('/api/workspaces').expect(200);
    const row = await gw.database.db('admin_sessions').first();
    expect(row.id_hash).toHaveLength(32); // only the hash of the token is stored
  });

  it('marks the cookie Secure behind an https proxy', async () => {
    // The cookie jar would not send Secure cookies over plain http, so carry them by hand.
    const https = { 'X-Forwarded-Proto': 'https' };
    const form = await gw.http.get('/admin/login').set(https).expect(200);
    const loginCookie = [form.headers['set-cookie']].flat()[0] as string;
    expect(loginCookie).toMatch(/; Secure/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
    const res = await gw.http.post('/admin/login').set(https).set('Cookie', loginCookie.split(';')[0]).type('form').send({ csrf, password: PASSWORD }).expect(303);
    const cookie = [res.headers['set-cookie']].flat().find((c: string) => c.startsWith('ag_session='))!;
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);
  });

  it('refuses a wrong password with the reason next to the field', async () => {
    const { res } = await login(undefined, 'nope nope nope');
    expect(res.status).toBe(401);
    expect(res.text).toContain('That password is not right');
    expect(res.text).toContain('aria-invalid="true"');
    expect([res.headers['set-cookie']].flat().join()).not.toMatch(/ag_session=[^;]/);
  });

  it('refuses a login form without its CSRF token', async () => {
    const res = await gw.http.post('/admin/login').type('form').send({ password: PASSWORD });
    expect(res.status).toBe(403);
  });

  it('requires the CSRF header on mutating API requests made with the session', async () => {
    const { agent, csrf } = await loggedIn();
    const refused = await agent.post('/api/workspaces').send({ name: 'No token' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('csrf');
    await agent.post('/api/workspaces').set('X-CSRF-Token', 'wrong').send({ name: 'Bad token' }).expect(403);
    const ok = await agent.post('/api/workspaces').set('X-CSRF-Token', csrf).send({ name: 'With token' }).expect(201);
    expect(ok.body.ingestKey).toMatch(/^agk_/);
    // The admin token keeps working on its own.
    await gw.api.get(`/api/workspaces/${ok.body.id}`).expect(200);
  });

  it('sets security headers on the page', async () => {
    const { agent } = await loggedIn();
    const res = await agent.get('/admin').expect(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('logs out: the session stops working at once', async () => {
    const { agent, csrf } = await loggedIn();
    await agent.post('/admin/logout').type('form').send({ csrf: 'wrong' }).expect(403);
    const out = await agent.post('/admin/logout').type('form').send({ csrf }).expect(303);
    expect(out.headers.location).toBe('/admin/login');
    await agent.get('/admin').expect(303);
    await agent.get('/api/workspaces').expect(401);
  });

  it('expires sessions after 12 hours', async () => {
    const { agent } = await loggedIn();
    gw.clock.advance(13 * 3600_000);
    await agent.get('/api/workspaces').expect(401);
    gw.clock.advance(-13 * 3600_000);
  });

  it('only follows local admin paths after login', async () => {
    const agent = request.agent(gw.app);
    const form = await agent.get('/admin/login?next=https://evil.example/').expect(200);
    expect(form.text).toContain('name="next" value="/admin"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
    const res = await agent.post('/admin/login').type('form').send({ csrf, password: PASSWORD, next: '//evil.example' }).expect(303);
    expect(res.headers.location).toBe('/admin');
  });
});
