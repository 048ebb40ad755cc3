import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';

export const ADMIN = 'fault-admin-token-0123456789abcdef';
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A PostgreSQL of our own that a test may stop and start again on the same port and data directory. */
export class DedicatedPostgres {
  private server?: EmbeddedServer;
  port = 0;
  private constructor(readonly dir: string) {}

  static async start(): Promise<DedicatedPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-fault-pg-'));
    fs.chmodSync(dir, 0o755);
    const pg = new DedicatedPostgres(dir);
    pg.server = await startEmbeddedPostgres(path.join(dir, 'data'), { quiet: true });
    pg.port = Number(new URL(pg.server.url).port);
    return pg;
  }
  url(database = 'audience_gateway') {
    return `postgres://postgres:postgres@127.0.0.1:${this.port}/${database}`;
  }
  async stop() {
    await this.server?.stop();
    this.server = undefined;
  }
  async restart() {
    this.server = await startEmbeddedPostgres(path.join(this.dir, 'data'), { quiet: true, port: this.port });
  }
  async destroy() {
    await this.stop().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Sent { ids: string[]; status: number; error?: string; path: string; base: string }

let seq = 0;
/** Unique message ids for one test run. */
export function messageIds(n: number, prefix = 'm'): string[] {
  const run = crypto.randomBytes(3).toString('hex');
  return Array.from({ length: n }, () => `${prefix}-${run}-${++seq}`);
}

export function trackMessages(ids: string[], userCount = 50) {
  return ids.map((messageId, i) => ({
    type: 'track',
    messageId,
    userId: `user-${(seq + i) % userCount}`,
    event: 'Clicked',
    properties: { i },
  }));
}

/** Sends one batch of track messages and records what the gateway answered (status 0 = no HTTP answer). */
export async function sendBatch(baseUrl: string, ingestKey: string, ids: string[], signal?: AbortSignal): Promise<Sent> {
  const auth = `Basic ${Buffer.from(`${ingestKey}:`).toString('base64')}`;
  const usePath = ids.length === 1 ? '/v1/track' : '/v1/batch';
  const body = ids.length === 1 ? trackMessages(ids)[0] : { batch: trackMessages(ids) };
  try {
    const res = await fetch(`${baseUrl}${usePath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify(body),
      signal: signal ?? AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    if (res.status === 200) {
      const parsed = JSON.parse(text) as { success?: boolean; rejected?: unknown[] };
      if (!parsed.success || (parsed.rejected && parsed.rejected.length)) throw new Error(`unexpected 200 body ${text}`);
    }
    return { ids, status: res.status, path: usePath, base: baseUrl, ...(res.status >= 300 ? { error: text.slice(0, 300) } : {}) };
  } catch (e) {
    if ((e as Error).message.startsWith('unexpected 200')) throw e;
    return { ids, status: 0, path: usePath, base: baseUrl, error: String((e as Error).cause ?? (e as Error).message) };
  }
}

/**
 * Keeps `clients` concurrent senders busy until stop() is called; alternates single messages and batches
 * across the given base URLs. Every request and its answer is kept for the final count.
 */
export function loadGenerator(baseUrls: () => string[], ingestKey: string, opts: { clients?: number; batch?: number } = {}) {
  const sent: Sent[] = [];
  let running = true;
  const clients = opts.clients ?? 6;
  const loops = Array.from({ length: clients }, async (_, c) => {
    let n = 0;
    while (running) {
      const urls = baseUrls();
      const size = (n + c) % 3 === 0 ? 1 : (opts.batch ?? 10);
      const s = await sendBatch(urls[(n + c) % urls.length], ingestKey, messageIds(size, `c${c}`));
      sent.push(s);
      if (s.status === 0 || s.status >= 500) await new Promise((r) => setTimeout(r, 25)); // a client backs off a little
      n++;
    }
  });
  return {
    sent,
    async stop() {
      running = false;
      await Promise.all(loops);
      return sent;
    },
  };
}

export function summarize(sent: Sent[]) {
  const byStatus: Record<string, number> = {};
  for (const s of sent) byStatus[s.status] = (byStatus[s.status] ?? 0) + s.ids.length;
  const acked = sent.filter((s) => s.status === 200).flatMap((s) => s.ids);
  return { requests: sent.length, messages: sent.reduce((n, s) => n + s.ids.length, 0), byStatus, acked };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `src/main.ts` in a child process (the real entry point: config, roles, signal handling). */
export async function spawnGateway(env: Record<string, string>, opts: { waitFor?: RegExp } = {}): Promise<GatewayProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-fault-data-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_TOKEN: ADMIN,
      SECRET_KEY: 'fault-secret-key',
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });
  const ready = opts.waitFor ?? /Audience Gateway is running at (\S+)/;
  const match = await Promise.race([
    waitFor('gateway start', async () => ready.exec(out) ?? undefined, 60_000, 50),
    exited.then((e) => { throw new Error(`gateway exited early (${e.code ?? e.signal}):\n${out}`); }),
  ]);
  return { child, url: match[1] ?? '', output: () => out, exited };
}

export async function adminPost(baseUrl: string, p: string, body: unknown) {
  const res = await fetch(`${baseUrl}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
