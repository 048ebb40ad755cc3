import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

/**
 * Body limits, compression bombs, slow clients, broken JSON and content types, against a real listening
 * server (the timeouts live in node:http, not in Express).
 */
const ADMIN = 'limits-admin-token-0123456789';
let database: TestDatabase;
let gateway: Gateway;
let dataDir: string;
let key: string;
let wsId: string;

beforeAll(async () => {
  database = await freshDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-limits-'));
  gateway = await startGateway(loadConfig({
    DATABASE_URL: database.url, ROLE: 'api', PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN, SECRET_KEY: 'k',
    DATA_DIR: dataDir, HTTP_REQUEST_TIMEOUT_MS: '1500', HTTP_HEADERS_TIMEOUT_MS: '1000', LOG_LEVEL: 'silent',
  }));
  const res = await post('/api/workspaces', JSON.stringify({ name: 'Limits' }), { authorization: `Bearer ${ADMIN}` });
  ({ ingestKey: key, id: wsId } = (await res.json()) as { ingestKey: string; id: string });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function post(p: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(`${gateway.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

async function storedCount() {
  const [{ n }] = await database.db('events').where({ workspace_id: wsId }).count({ n: '*' });
  return Number(n);
}

describe('body size limits', () => {
  it('413 over 32 KB for one message and 500 KB for a batch, stored nothing', async () => {
    const big = JSON.stringify({ type: 'track', userId: 'u', event: 'e', properties: { pad: 'x'.repeat(33 * 1024) } });
    for (const p of ['/v1/track', '/v1/segment', '/v1/identify', '/v1/webhooks/segment']) {
      const res = await post(p, big);
      expect({ p, status: res.status }).toEqual({ p, status: 413 });
      expect(await res.json()).toMatchObject({ success: false, code: 'too_large' });
    }
    const batch = JSON.stringify({ batch: Array.from({ length: 60 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'e', properties: { pad: 'y'.repeat(9000) } })) });
    expect(batch.length).toBeGreaterThan(500 * 1024);
    for (const p of ['/v1/batch', '/v1/import']) expect((await post(p, batch)).status).toBe(413);
    expect(await storedCount()).toBe(0);
  });

  it('413 for a chunked body without Content-Length that grows past the limit', async () => {
    const chunks = (async function* () {
      yield Buffer.from('{"batch":[');
      for (let i = 0; i < 200; i++) yield Buffer.from(`{"type":"track","userId":"u","event":"${'z'.repeat(4000)}"},`);
      yield Buffer.from('{}]}');
    })();
    const res = await fetch(`${gateway.url}/v1/batch`, {
      method: 'POST', body: chunks as unknown as BodyInit, duplex: 'half',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('management API bodies over 5 MB are a 413 in the API error shape', async () => {
    const res = await post('/api/workspaces', JSON.stringify({ name: 'x'.repeat(6 * 1024 * 1024) }), { authorization: `Bearer ${ADMIN}` });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'too_large' } });
  });
});

describe('compression', () => {
  it('a small gzip or deflate body that inflates past the limit is a 413 (decompression bomb)', async () => {
    const inflated = Buffer.from(`{"batch":[${'{"type":"track","userId":"u","event":"bomb"},'.repeat(400_000)}{}]}`); // ~18 MB
    const gz = zlib.gzipSync(inflated, { level: 9 });
    expect(gz.length).toBeLessThan(100 * 1024); // small on the wire
    const before = process.memoryUsage().rss;
    for (const [p, enc, body] of [['/v1/batch', 'gzip', gz], ['/v1/import', 'deflate', zlib.deflateSync(inflated)], ['/v1/track', 'gzip', zlib.gzipSync(Buffer.from(`{"type":"track","userId":"u","event":"${' '.repeat(5_000_000)}"}`))]] as const) {
      const res = await post(p, body, { 'content-encoding': enc });
      expect({ p, enc, status: res.status }).toEqual({ p, enc, status: 413 });
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024); // the body was never fully inflated
    expect(await storedCount()).toBe(0);
  });

  it('a valid gzip body is accepted; corrupt gzip is a 400; unknown encodings a 415', async () => {
    const ok = zlib.gzipSync(JSON.stringify({ type: 'track', userId: 'gz', event: 'Zipped', messageId: 'gz-1' }));
    expect((await post('/v1/track', ok, { 'content-encoding': 'gzip' })).status).toBe(200);
    const corrupt = Buffer.concat([ok.subarray(0, 12), Buffer.from('garbage-garbage')]);
    expect((await post('/v1/track', corrupt, { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post('/v1/track', ok, { 'content-encoding': 'br' })).status).toBe(415);
    expect(await storedCount()).toBe(1);
  });
});

describe('broken JSON and content types', () => {
  it('invalid JSON is a 400 that never echoes the body back', async () => {
    for (const body of ['agk_SECRETSECRETSECRET', '{"writeKey":"agk_SECRETSECRETSECRET",', '{"type":"track" "userId":1}', '', 'null', '[1,2']) {
      const res = await post('/v1/track', body);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toContain('agk_SECRET');
      expect(text).not.toContain('SECRETSECRET');
      expect(JSON.parse(text)).toMatchObject({ success: false, code: 'invalid' });
    }
    const api = await post('/api/workspaces', '{"name": agk_SECRETSECRETSECRET}', { authorization: `Bearer ${ADMIN}` });
    expect(api.status).toBe(400);
    expect(await api.text()).not.toMatch(/agk_SECRET|SECRETSECRET/);
  });

  it('non-JSON content types are a 415', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'image/png']) {
      const res = await post('/v1/batch', '{"batch":[]}', { 'content-type': type });
      expect({ type, status: res.status }).toEqual({ type, status: 415 });
    }
  });
});

describe('slow clients (slow-loris)', () => {
  /** Trickles `data` one byte every `everyMs`; resolves with what the server answered once it closed the socket. */
  function trickle(data: string, everyMs: number) {
    const { port } = new URL(gateway.url);
    return new Promise<{ answer: string; sentBytes: number }>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let answer = '';
      let i = 0;
      const timer = setInterval(() => {
        if (i >= data.length || socket.destroyed) return;
        socket.write(data[i++]);
      }, everyMs);
      socket.on('data', (d) => { answer += d.toString(); });
      socket.on('error', () => undefined);
      socket.on('close', () => { clearInterval(timer); resolve({ answer, sentBytes: i }); });
    });
  }

  it('closes a connection whose headers arrive too slowly', async () => {
    const headers = `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(200)}\r\n\r\n`;
    const { answer, sentBytes } = await trickle(headers, 40); // would take ~12 s to send
    expect(sentBytes).toBeLessThan(headers.length);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes a connection whose body arrives too slowly, and stores nothing from it', async () => {
    const before = await storedCount();
    const body = JSON.stringify({ type: 'track', userId: 'slow', event: 'Slow', messageId: 'slow-1', properties: { pad: 'x'.repeat(150) } });
    const { port } = new URL(gateway.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write(`POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nAuthorization: Basic ${Buffer.from(`${key}:`).toString('base64')}\r\n\r\n`);
    let answer = '';
    let i = 0;
    const timer = setInterval(() => { if (i < body.length && !socket.destroyed) socket.write(body[i++]); }, 50); // ~10 s
    socket.on('data', (d) => { answer += d.toString(); });
    socket.on('error', () => undefined);
    await new Promise((r) => socket.on('close', r));
    clearInterval(timer);
    expect(i).toBeLessThan(body.length);
    expect(answer).toMatch(/^HTTP\/1\.1 408|^$/);
    expect(await storedCount()).toBe(before);
  });
});
