import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { adminPost, loadGenerator, spawnGateway, summarize, trackMessages, messageIds, waitFor, type GatewayProcess } from './support.js';

/**
 * SIGTERM on a gateway process under load: it stops accepting connections, lets the requests already
 * in flight (and their group commits) finish, stops the worker, and exits 0 within a bound. Every message
 * it acknowledged is stored.
 */
let database: TestDatabase;
let gw: GatewayProcess | undefined;

beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  if (gw && gw.child.exitCode === null) gw.child.kill('SIGKILL');
  await database?.drop();
});

/** Opens a raw HTTP request and sends only the first half of its body. */
function halfSentRequest(url: string, ingestKey: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (d) => { answer += d.toString(); });
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.on('error', () => undefined);
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /v1/batch HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Authorization: Basic ${Buffer.from(`${ingestKey}:`).toString('base64')}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`,
  );
  return { finish: () => socket.write(body.slice(half)), closed };
}

function connects(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

describe('graceful shutdown on SIGTERM', () => {
  it('finishes in-flight requests, refuses new connections, exits 0 and keeps every acknowledged message', async () => {
    gw = await spawnGateway({ DATABASE_URL: database.url, ROLE: 'all' });
    const url = gw.url;
    const ws = await adminPost(url, '/api/workspaces', { name: 'Shutdown' }) as { id: string; ingestKey: string };

    const load = loadGenerator(() => [url], ws.ingestKey, { clients: 6, batch: 20 });
    await waitFor('traffic', async () => summarize(load.sent).acked.length >= 300);

    const slowIds = messageIds(5, 'inflight');
    const slow = halfSentRequest(url, ws.ingestKey, JSON.stringify({ batch: trackMessages(slowIds) }));
    await new Promise((r) => setTimeout(r, 100)); // the request is in flight: headers read, body half sent

    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    await waitFor('shutdown to begin', async () => gw!.output().includes('shutting down'), 10_000, 20);
    expect(await connects(url)).toBe(false); // the listening socket is closed
    slow.finish();
    const exit = await gw.exited;
    const exitMs = Date.now() - signalledAt;
    const sent = await load.stop();

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(5_000);
    const slowAnswer = await slow.closed;
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 200/);
    expect(slowAnswer).toContain('"accepted":5');

    // No 500s; what was not answered 200 is a refused/reset connection or a 503 the client retries.
    const statuses = [...new Set(sent.map((s) => s.status))].sort();
    expect(statuses.filter((s) => ![0, 200, 503].includes(s))).toEqual([]);
    const acked = [...summarize(sent).acked, ...slowIds];
    const rows = await database.db('events').where({ workspace_id: ws.id }).select('message_id') as { message_id: string }[];
    const stored = new Set(rows.map((r) => r.message_id));
    expect(rows.length).toBe(stored.size);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    console.info(`[figures] shutdown ${JSON.stringify({ sent: summarize(sent).messages + 5, acked: acked.length, stored: stored.size, byStatus: summarize(sent).byStatus, exitMs })}`);
  }, 90_000);
});
