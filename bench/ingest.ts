/**
 * Ingest throughput and latency, over loopback, with the two ceilings that make the figures readable.
 *
 *   npx tsx bench/ingest.ts            (DATABASE_URL or postgres://postgres@127.0.0.1:5432/test; BENCH_SECONDS=10)
 *
 * It creates its own database (ag_bench_<pid>), starts the gateway (startGateway, ROLE=api) in a child process
 * so the load generator and the server are separate processes sharing the machine's cores, and prints:
 *   - single-event POST /v1/segment and /v1/batch (100 events a request): events/s, p50, p99;
 *   - p99 at a fixed 2,000 events/s (single-event requests);
 *   - the framework floor: a no-op Express 5 JSON handler (same lean body reader, res.json) in a child process;
 *   - the PostgreSQL ceiling: the same rows written straight into a scratch copy of `events`, by COPY FROM STDIN
 *     (psql \copy, when psql is installed) and by the set-based INSERT ... SELECT FROM json_to_recordset the
 *     gateway itself uses (pg-copy-streams is not a dependency).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import express from 'express';
import pg from 'pg';
import { cpuMeter, cpuSeconds, machineLine, settle } from './lib/machine.js';
import { segmentMessage } from './lib/segment-messages.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** BENCH_ONLY=noop,gateway,commit,pg runs a subset (for profiling sessions); gateway-single, gateway-batch, gateway-fixed one gateway phase. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'noop,gateway,commit,pg').split(','));
const phase = (name: string) => ONLY.has('gateway') || ONLY.has(`gateway-${name}`);
const BATCH_SIZE = 100;
/**
 * Open connections of the single-event throughput phases, no-op and gateway alike (CONNECTIONS). 128 clients each
 * waiting for its answer: at 32 the gateway waited on its commits with CPU to spare (gateway 60 %, PostgreSQL 70 % of
 * a core) and served 2,100-2,400 events/s; at 128 its group commits are larger (2,400-3,800 events/s in the same
 * hour, docs/ingest.md) while the no-op handler is the same (4,600-4,900 at 128, 4,800 at 32).
 */
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 128);
const FIXED_RATE = 2_000;
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const SERVER_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const here = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------------------------
// Child processes: the gateway, and the no-op handler.

async function serveGateway(databaseUrl: string) {
  const { loadConfig } = await import('../src/config.js');
  const { startGateway } = await import('../src/server.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-bench-'));
  const config = loadConfig({
    ...process.env, DATABASE_URL: databaseUrl, ROLE: 'api', PORT: '0', HOST: '127.0.0.1',
    ADMIN_TOKEN, SECRET_KEY: 'bench-secret', DATA_DIR: dataDir, LOG_LEVEL: 'silent',
  });
  const gw = await startGateway(config);
  process.send!({ url: gw.url });
  process.on('SIGTERM', () => void gw.stop().finally(() => { fs.rmSync(dataDir, { recursive: true, force: true }); process.exit(0); }));
}

async function serveNoop() {
  const { readJson } = await import('../src/ingest/body.js');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/v1/segment', readJson(32 * 1024), (_req, res) => { res.json({ success: true }); });
  app.post('/v1/batch', readJson(500 * 1024), (req, res) => {
    res.json({ success: true, accepted: (req.body as { batch: unknown[] }).batch.length, duplicates: 0, rejected: [] });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.send!({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function startChild(mode: string, arg = ''): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the gateway process there (open it in Chrome DevTools).
  const profile = mode === 'gateway' && process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = fork(here, [`--serve=${mode}`, arg], {
    env: { ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'production' },
    execArgv: [...process.execArgv, ...profile],
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve({ child, url: m.url }));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess) {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Load.

interface Figure { name: string; eventsPerSec: number; requestsPerSec: number; p50: number; p99: number; errors: number; note?: string }
const figures: Figure[] = [];

function record(name: string, r: Result, eventsPerRequest: number, note?: string): Figure {
  const ok = r['2xx'];
  const f: Figure = {
    name,
    requestsPerSec: ok / r.duration,
    eventsPerSec: (ok * eventsPerRequest) / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    note,
  };
  figures.push(f);
  console.log(`  ${name.padEnd(48)} ${fmt(f.eventsPerSec).padStart(9)} events/s  p50 ${f.p50} ms  p99 ${f.p99} ms${f.errors ? `  (${f.errors} errors/non-2xx)` : ''}`);
  return f;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');


let sequence = 0;
const run = crypto.randomBytes(4).toString('hex');

function singleLoad(url: string, key: string, opts: { seconds: number; connections: number; rate?: number }) {
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  return autocannon({
    url,
    connections: opts.connections,
    duration: opts.seconds,
    overallRate: opts.rate,
    timeout: 30,
    requests: [{
      method: 'POST',
      path: '/v1/segment',
      headers: { 'content-type': 'application/json', authorization: auth },
      setupRequest: (req) => { req.body = JSON.stringify(segmentMessage(run, sequence++)); return req; },
    }],
  });
}

function batchLoad(url: string, key: string, opts: { seconds: number; connections: number }) {
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  return autocannon({
    url,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 30,
    requests: [{
      method: 'POST',
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: auth },
      setupRequest: (req) => {
        const batch = [];
        for (let i = 0; i < BATCH_SIZE; i++) batch.push(segmentMessage(run, sequence++));
        req.body = JSON.stringify({ batch, context: { library: { name: 'analytics-node', version: '3.1.0' } } });
        return req;
      },
    }],
  });
}

async function groupCommitStats(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const sum = num('ag_group_commit_messages_sum');
  const count = num('ag_group_commit_messages_count');
  return { commits: count, messages: sum, perCommit: sum / count };
}

// ---------------------------------------------------------------------------------------------------------------
// The commit alone (storeMessages, no HTTP): CPU per event of PostgreSQL and of the writer. CPU time, unlike
// throughput, barely moves when other processes share the machine, so this is the figure to compare changes by.

async function commitCost(databaseUrl: string, workspaceId: string) {
  const { createDb } = await import('../src/db/knex.js');
  const { storeMessages } = await import('../src/ingest/writer.js');
  const { normalizeMessage } = await import('../src/ingest/normalize.js');
  const db = createDb(databaseUrl, 1);
  const { rows: [{ pid }] } = await db.raw('select pg_backend_pid() as pid');
  let i = 0;
  const messages = (n: number) => Array.from({ length: n }, () => {
    const m = normalizeMessage(segmentMessage(`${run}-commit`, i++), workspaceId, new Date());
    if (!m.ok) throw new Error(m.rejection.message);
    return m.message;
  });
  for (const [size, rounds] of [[10, 300], [100, 50]]) {
    for (let r = 0; r < 10; r++) await storeMessages(db, messages(size));
    const pg0 = cpuSeconds(pid);
    const me0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) await storeMessages(db, messages(size));
    const events = size * rounds;
    const me = process.cpuUsage(me0);
    const us = (seconds: number) => Math.round((seconds * 1e6) / events);
    console.log(`  commit of ${String(size).padStart(3)} events: postgres ${us(cpuSeconds(pid) - pg0)} µs CPU/event, writer process ${us((me.user + me.system) / 1e6)} µs CPU/event, ${us((performance.now() - t0) / 1000)} µs wall/event`);
  }
  await db.destroy();
}

// ---------------------------------------------------------------------------------------------------------------
// The PostgreSQL ceiling: the same rows, straight into a scratch copy of `events`.

function eventRows(n: number, workspaceId: string) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const m = segmentMessage(`${run}-pg`, i) as Record<string, any>;
    rows.push({
      workspace_id: workspaceId, message_id: m.messageId, type: m.type, user_id: m.userId, anonymous_id: m.anonymousId,
      event: m.event ?? null, group_id: m.groupId ?? null, properties: m.properties ?? null, traits: m.traits ?? null,
      context: m.context, integrations: m.integrations, extra: null, timestamp: m.timestamp, original_timestamp: null,
      sent_at: m.sentAt, received_at: new Date().toISOString(),
    });
  }
  return rows;
}

const COLUMNS = ['workspace_id', 'message_id', 'type', 'user_id', 'anonymous_id', 'event', 'group_id', 'properties', 'traits', 'context', 'integrations', 'extra', 'timestamp', 'original_timestamp', 'sent_at', 'received_at'];

async function insertCeiling(databaseUrl: string, rows: ReturnType<typeof eventRows>, chunk: number, parallel: number) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: parallel });
  pool.on('error', () => undefined); // the final DROP DATABASE … WITH (FORCE) may reach a client that is still closing
  await pool.query('truncate bench_events');
  const chunks: (typeof rows)[] = [];
  for (let i = 0; i < rows.length; i += chunk) chunks.push(rows.slice(i, i + chunk));
  const started = performance.now();
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < chunks.length) {
      const c = chunks[next++];
      const t = performance.now();
      await pool.query(
        `insert into bench_events (${COLUMNS.join(', ')})
         select ${COLUMNS.join(', ')} from json_to_recordset($1::json) as r(
           workspace_id uuid, message_id text, type text, user_id text, anonymous_id text, event text, group_id text,
           properties jsonb, traits jsonb, context jsonb, integrations jsonb, extra jsonb,
           timestamp timestamptz, original_timestamp timestamptz, sent_at timestamptz, received_at timestamptz)
         on conflict (workspace_id, message_id) do nothing`,
        [JSON.stringify(c)],
      );
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.end();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]);
  const f: Figure = { name: `PostgreSQL INSERT…json_to_recordset, ${chunk} rows/stmt ×${parallel}`, eventsPerSec: rows.length / seconds, requestsPerSec: chunks.length / seconds, p50: pct(0.5), p99: pct(0.99), errors: 0, note: 'statement latency' };
  figures.push(f);
  console.log(`  ${f.name.padEnd(48)} ${fmt(f.eventsPerSec).padStart(9)} events/s  p50 ${f.p50} ms  p99 ${f.p99} ms (per statement)`);
}

function csvField(v: unknown) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `"${s.replace(/"/g, '""')}"`;
}

async function copyCeiling(databaseUrl: string, rows: ReturnType<typeof eventRows>) {
  const probe = spawn('psql', ['--version']);
  const available = await new Promise<boolean>((r) => { probe.on('error', () => r(false)); probe.on('exit', (c) => r(c === 0)); });
  if (!available) { console.log('  (psql not installed: COPY ceiling skipped)'); return; }
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query('truncate bench_events');
  await admin.end();
  const csv = rows.map((r) => COLUMNS.map((c) => csvField((r as Record<string, unknown>)[c])).join(',')).join('\n') + '\n';
  const started = performance.now();
  const psql = spawn('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-qc', `\\copy bench_events (${COLUMNS.join(', ')}) from stdin with (format csv)`], { stdio: ['pipe', 'ignore', 'inherit'] });
  psql.stdin.end(csv);
  const code = await new Promise<number | null>((r) => psql.on('exit', r));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) { console.log(`  (psql \\copy failed with ${code})`); return; }
  const f: Figure = { name: 'PostgreSQL COPY FROM STDIN (psql \\copy, 1 stream)', eventsPerSec: rows.length / seconds, requestsPerSec: 1 / seconds, p50: NaN, p99: NaN, errors: 0, note: `${rows.length} rows in ${seconds.toFixed(2)} s` };
  figures.push(f);
  console.log(`  ${f.name.padEnd(48)} ${fmt(f.eventsPerSec).padStart(9)} events/s  (${f.note})`);
}

// ---------------------------------------------------------------------------------------------------------------

async function frameworkFloor() {
  console.log('framework floor (no-op Express 5 handler, lean JSON reader, res.json):');
  const noop = await startChild('noop');
  try {
    await singleLoad(noop.url, 'k', { seconds: 2, connections: 32 });
    record('no-op: single event', await singleLoad(noop.url, 'k', { seconds: SECONDS, connections: CONNECTIONS }), 1);
    record(`no-op: batch of ${BATCH_SIZE}`, await batchLoad(noop.url, 'k', { seconds: SECONDS, connections: 8 }), BATCH_SIZE);
  } finally {
    await stopChild(noop.child);
  }
}

/** Starts the gateway on its own database (migrated on start) and creates the workspace; loads it when asked. */
async function gatewayLoad(databaseUrl: string, load: boolean) {
  console.log('\ngateway (ROLE=api, group commit, PostgreSQL):');
  const gw = await startChild('gateway', databaseUrl);
  try {
    const res = await fetch(`${gw.url}/api/workspaces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ name: 'bench' }) });
    const { ingestKey } = (await res.json()) as { ingestKey: string };
    if (!load) return;
    const figure = async <T,>(name: string, fn: () => Promise<T>) => (phase(name) ? fn() : undefined);
    await singleLoad(gw.url, ingestKey, { seconds: 3, connections: 32 }); // warm-up: JIT, pool, prepared statements
    const single = await figure('single', async () => {
      const meter = await cpuMeter({ gateway: gw.child.pid! }, databaseUrl);
      const f = record('gateway: POST /v1/segment, single event', await singleLoad(gw.url, ingestKey, { seconds: SECONDS, connections: CONNECTIONS }), 1);
      console.log(`    ${await meter()}`);
      return f;
    });
    const before = await groupCommitStats(gw.url);
    await figure('batch', async () => {
      const meter = await cpuMeter({ gateway: gw.child.pid! }, databaseUrl);
      record(`gateway: POST /v1/batch, ${BATCH_SIZE} events a request`, await batchLoad(gw.url, ingestKey, { seconds: SECONDS, connections: 8 }), BATCH_SIZE);
      console.log(`    ${await meter()}`);
      const after = await groupCommitStats(gw.url);
      console.log(`  group commit: ${fmt(before.perCommit)} messages a commit under single-event load, ${fmt((after.messages - before.messages) / (after.commits - before.commits))} under batches`);
    });
    const fixed = await figure('fixed', async () => {
      // Right after the batch phase's burst (~100,000 rows) a checkpoint and autovacuum ran during the next 10 s and
      // made this phase's p99 160-250 ms, against 21-30 ms on its own (docs/ingest.md; SETTLE=0 measures it that way).
      if (process.env.SETTLE !== '0') console.log(`  settle before the fixed rate: ${await settle(databaseUrl)}`);
      const meter = await cpuMeter({ gateway: gw.child.pid! }, databaseUrl);
      const f = record(`gateway: fixed ${fmt(FIXED_RATE)} events/s, single events`, await singleLoad(gw.url, ingestKey, { seconds: SECONDS, connections: 32, rate: FIXED_RATE }), 1);
      console.log(`    ${await meter()}`);
      return f;
    });
    const noopSingle = figures.find((f) => f.name === 'no-op: single event');
    if (noopSingle && single) console.log(`  ratios: single / no-op = ${(single.eventsPerSec / noopSingle.eventsPerSec).toFixed(2)}${fixed ? `; fixed rate achieved ${fmt(fixed.eventsPerSec)} events/s` : ''}`);
  } finally {
    await stopChild(gw.child);
  }
}


async function postgresCeiling(databaseUrl: string, workspaceId: string) {
  console.log('\nPostgreSQL ceiling (same rows into a scratch copy of events, indexes included):');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('create table if not exists bench_events (like events including all)');
  await db.end();
  const rows = eventRows(200_000, workspaceId);
  await copyCeiling(databaseUrl, rows);
  await insertCeiling(databaseUrl, rows, BATCH_SIZE, 2);
  await insertCeiling(databaseUrl, rows, 1_000, 2);
}

async function main() {
  console.log(`ingest benchmark, ${SECONDS} s a figure, ${machineLine()}`);
  const dbName = `ag_bench_${process.pid}`;
  const databaseUrl = (() => { const u = new URL(SERVER_URL); u.pathname = `/${dbName}`; return u.toString(); })();
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  const { rows: [{ server_version: pgVersion }] } = await admin.query('show server_version');
  console.log(`PostgreSQL ${pgVersion} at ${new URL(SERVER_URL).host} (synchronous_commit on, fsync on)\n`);
  try {
    if (ONLY.has('noop')) await frameworkFloor();
    await gatewayLoad(databaseUrl, ['single', 'batch', 'fixed'].some(phase));
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const { rows: [{ id: workspaceId }] } = await db.query('select id from workspaces limit 1');
    await db.end();
    if (ONLY.has('commit')) {
      console.log('\ncommit cost (storeMessages in this process, one connection):');
      await commitCost(databaseUrl, workspaceId);
    }
    if (ONLY.has('pg')) await postgresCeiling(databaseUrl, workspaceId);
  } finally {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }

  console.log('\nsummary (markdown):\n');
  console.log('| figure | events/s | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const f of figures) console.log(`| ${f.name} | ${fmt(f.eventsPerSec)} | ${Number.isNaN(f.p50) ? '–' : f.p50} | ${Number.isNaN(f.p99) ? '–' : f.p99} |`);
}

const serve = process.argv.find((a) => a.startsWith('--serve='))?.slice('--serve='.length);
if (serve === 'gateway') await serveGateway(process.argv[process.argv.indexOf('--serve=gateway') + 1]);
else if (serve === 'noop') await serveNoop();
else await main();
