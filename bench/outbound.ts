// Segment push throughput: 10,000 completed responses, queued as segment.push-response jobs, pushed by the
// outbound worker to a local fake Segment. Prints responses/s end to end (from adding the jobs, one statement, until the
// queue is empty and every delivery row written) and the HTTP requests used.
// Run: npx tsx bench/outbound.ts   (env: DATABASE_URL or TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
//      RESPONSES=10000 CONCURRENCY=500 (jobs per worker process) LOCAL_QUEUE=500 (0 = off) WORKERS=2 (worker child
//      processes, as ROLE=worker processes would run, apart from the fake Segment; 0 = one worker in this process, for
//      profiling), WORKER_NODE_FLAGS (node flags of the children, default --max-semi-space-size=64))
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import pg from 'pg';
import { createDb } from '../src/db/knex.js';
import { migrate } from '../src/db/migrate.js';
import { loadConfig } from '../src/config.js';
import { SecretBox } from '../src/lib/crypto.js';
import { systemClock } from '../src/lib/clock.js';
import { GroupCommitWriter } from '../src/ingest/writer.js';
import { createWorkspace } from '../src/workspaces/store.js';
import { addJobs } from '../src/outbound/queue.js';
import { upsertSegmentIntegration } from '../src/outbound/store.js';
import { OUTBOUND_CONCURRENCY, OUTBOUND_LOCAL_QUEUE, outboundRunner } from '../src/outbound/runner.js';

const N = Number(process.env.RESPONSES ?? 10_000);
// Defaults: the worker role's outbound runner (src/outbound/runner.ts).
const CONCURRENCY = Number(process.env.CONCURRENCY ?? OUTBOUND_CONCURRENCY);
const LOCAL_QUEUE = Number(process.env.LOCAL_QUEUE ?? OUTBOUND_LOCAL_QUEUE);
// Defaults as README's "Running in production" recommends for two cores: two worker processes, 64 MB semi-space.
const WORKERS = Number(process.env.WORKERS ?? 2);
// node flags of the worker child processes, e.g. WORKER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
const WORKER_NODE_FLAGS = (process.env.WORKER_NODE_FLAGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean);

/** One worker: the worker role's outbound runner (src/outbound/runner.ts), heartbeat included. */
async function startWorker(connectionString: string, segmentHost: string, db: ReturnType<typeof createDb>) {
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: connectionString, LOG_LEVEL: 'silent' }), SEGMENT_API_HOST: segmentHost };
  const ctx = { db, config, secrets: new SecretBox('bench'), adminToken: 'x'.repeat(16), writer: new GroupCommitWriter(db), clock: systemClock };
  const runner = outboundRunner(ctx, { concurrency: CONCURRENCY, localQueue: LOCAL_QUEUE });
  if (!(await runner.started)) throw new Error('outbound runner did not start');
  return runner;
}

if (process.argv[2] === '--worker') {
  // Child mode: run until told to stop on stdin, then print this process's CPU seconds.
  const [, , , connectionString, segmentHost] = process.argv;
  const db = createDb(connectionString, 10);
  const w = await startWorker(connectionString, segmentHost, db);
  const cpu0 = process.cpuUsage(); // from here: the delivery's CPU, not start-up's
  process.stdout.write('ready\n');
  process.stdin.once('data', async () => {
    await w.stop();
    const c = process.cpuUsage(cpu0);
    process.stdout.write(`cpu ${(c.user + c.system) / 1e6}\n`);
    await db.destroy();
    process.exit(0);
  });
  await new Promise(() => undefined);
}
const baseUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `ag_bench_outbound_${process.pid}`;
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;

/** CPU seconds of every PostgreSQL process on this machine (exited backends count in the postmaster's cutime). */
function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch { /* gone */ }
  }
  return ticks / 100;
}

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

// The fake Segment: counts requests and distinct messageIds, answers 200.
let requests = 0;
let tracks = 0;
const messageIds = new Set<string>();
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests++;
    for (const m of JSON.parse(Buffer.concat(chunks).toString()).batch) {
      messageIds.add(m.messageId);
      if (m.type === 'track') tracks++;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const segmentHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

await admin(`drop database if exists ${dbName}`);
await admin(`create database ${dbName}`);
const db = createDb(url.toString(), 20);
try {
  await migrate(db, url.toString());
  const secrets = new SecretBox('bench');
  const { workspace } = await createWorkspace(db, 'Bench');
  const [survey] = await db('surveys').insert({ workspace_id: workspace.id, name: 'NPS', questions: JSON.stringify([{ id: 'nps', type: 'nps', label: 'NPS' }, { id: 'why', type: 'text', label: 'Why' }]) }).returning('*');
  await upsertSegmentIntegration(db, {
    workspace_id: workspace.id, write_key_enc: secrets.encrypt('wk_bench'), write_key_hint: 'wk_…', enabled: true, survey_ids: null,
    trait_prefix: 'survey_', events: {}, track_seen: false, track_dismissed: false,
  }, new Date());
  // A quarter of the users belong to an account (one group call more).
  await db.raw(`insert into accounts (workspace_id, group_id) select ?, 'acct-' || g from generate_series(1, 100) g`, [workspace.id]);
  await db.raw(`insert into account_members (workspace_id, user_id, group_id, joined_at)
                select ?, 'user-' || g, 'acct-' || (g % 100 + 1), now() from generate_series(1, ?) g where g % 4 = 0`, [workspace.id, N]);
  const { rows } = await db.raw(
    `insert into survey_responses (workspace_id, survey_id, user_id, message_id, answers, completed_at)
     select ?, ?, 'user-' || g, 'bench-' || g, json_build_object('nps', g % 11, 'why', 'because ' || g), now() - (g || ' seconds')::interval
       from generate_series(1, ?) g returning id`,
    [workspace.id, survey.id, N],
  );

  const children = WORKERS > 0 ? await Promise.all(Array.from({ length: WORKERS }, async () => {
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), '--worker', url.toString(), segmentHost], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    child.stdout.on('data', (b: Buffer) => { lines.push(...b.toString().trim().split('\n')); waiters.splice(0).forEach((w) => w()); });
    const next = async (prefix: string) => {
      for (;;) {
        const l = lines.find((x) => x.startsWith(prefix));
        if (l) return l;
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    await next('ready');
    return { child, next };
  })) : [];
  const local = WORKERS > 0 ? undefined : await startWorker(url.toString(), segmentHost, db);
  const cpu0 = process.cpuUsage();
  const pgCpu0 = postgresCpuSeconds();
  const started = performance.now();
  await addJobs(db, 'segment.push-response', rows.map((r: { id: string }) => ({ workspaceId: workspace.id, responseId: r.id })));
  const addSeconds = (performance.now() - started) / 1000;
  for (;;) {
    const { rows: [c] } = await db.raw(`select count(*)::int as jobs from graphile_worker._private_jobs`);
    if (c.jobs === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  const pgCpu = postgresCpuSeconds() - pgCpu0;
  await local?.stop();
  let workerCpu = 0;
  for (const { child, next } of children) {
    child.stdin!.write('stop\n');
    workerCpu += Number((await next('cpu')).split(' ')[1]);
  }
  const cpu = process.cpuUsage(cpu0);
  const benchCpu = (cpu.user + cpu.system) / 1e6;
  const cpuSeconds = benchCpu + workerCpu;
  const { rows: [d] } = await db.raw(`select count(*) filter (where status = 'delivered')::int as delivered, count(*)::int as total from deliveries`);
  if (d.delivered !== N || d.total !== N) throw new Error(`expected ${N} delivered rows, found ${JSON.stringify(d)}`);
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown'} (shared with other engineers' runs; load average ${os.loadavg()[0].toFixed(1)}), node ${process.version}`);
  console.log(`${WORKERS > 0 ? `${WORKERS} worker process(es) apart from the bench and the fake Segment (as ${WORKERS} ROLE=worker process(es) would run${WORKER_NODE_FLAGS.length ? `; node ${WORKER_NODE_FLAGS.join(' ')}` : ''})` : '1 worker, in the bench process (beside the fake Segment)'}, graphile-worker concurrency ${CONCURRENCY} each, ${LOCAL_QUEUE > 0 ? `localQueue ${LOCAL_QUEUE}, completeJobBatchDelay 10 ms` : 'no localQueue'}`);
  console.log(`responses: ${N}, delivered: ${tracks} tracks, ${messageIds.size} distinct calls (identify + track + group for 1 in 4)`);
  console.log(`end to end: ${seconds.toFixed(2)} s = ${Math.round(N / seconds)} responses/s (adding the ${N} jobs took ${addSeconds.toFixed(2)} s of it)`);
  console.log(`HTTP requests to Segment: ${requests} (${(messageIds.size / requests).toFixed(0)} calls per request)`);
  console.log(`CPU of the worker process(es) and the fake Segment: ${cpuSeconds.toFixed(2)} s = ${Math.round(N / cpuSeconds)} responses per CPU-second (PostgreSQL not counted)${WORKERS > 0 ? `; workers ${workerCpu.toFixed(2)} s = ${Math.round(1e6 * workerCpu / N)} µs per response, fake Segment and bench ${benchCpu.toFixed(2)} s` : ''}`);
  console.log(`CPU of PostgreSQL (all its processes on this machine, other engineers' queries included) meanwhile: ${pgCpu.toFixed(2)} s`);
} finally {
  await db.destroy();
  server.close();
  await admin(`drop database if exists ${dbName} with (force)`);
}
