/**
 * Audience check throughput and latency over loopback.
 *
 *   npx tsx bench/audience-check.ts            (uses TEST_DATABASE_URL / DATABASE_URL / postgres://postgres@127.0.0.1:5432/test)
 *
 * 100,000 users, an audience of three segments (include A or B, exclude C). The gateway runs in this
 * process (startGateway, ROLE=api) beside a no-op Express GET handler; autocannon runs in a child
 * process so it does not share the server's event loop. Prints checks/s, the ratio to the no-op
 * handler, p50/p99 at the highest rate, p99 at a fixed 1,000 checks/s, and the batch form (1,000 users).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import pg from 'pg';

const USERS = 100_000;
const DURATION = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_ONLY=max,fixed,batch runs a subset (for profiling); BENCH_PROFILE=<dir> writes a CPU profile of the gateway process per check phase. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'max,fixed,batch').split(','));
const PROFILE_DIR = process.env.BENCH_PROFILE;

interface LoadSpec {
  url: string; paths: string[]; headers: Record<string, string>; connections: number; duration: number; overallRate?: number; paced?: boolean;
  /** Batch checks instead: `rounds` POSTs of `size` random user ids (of user-1 … user-`users`) to paths[0], one at a time. */
  batch?: { size: number; users: number; rounds: number; reasons: boolean };
}
interface LoadResult { rps: number; p50: number; p99: number; errors: number; non2xx: number; total: number }

/**
 * An open-loop load at a steady rate: one request every 1/rate s (sent on keep-alive connections, at most
 * `connections` at once), latency counted from the moment the request was due, so a stall delays and counts
 * every request behind it (no coordinated omission). autocannon's overallRate is not steady: each connection
 * sends its share of a second back to back as fast as the server answers and then waits for the next second,
 * so "1,000/s" there is a burst at full speed every second, and its correction for that records each
 * latency again for every millisecond it lasted.
 */
async function pacedLoad(spec: LoadSpec & { overallRate: number }): Promise<LoadResult> {
  // Raw keep-alive sockets and prebuilt request bytes: node's http client costs more CPU per request than
  // the no-op handler it measures, and on a busy machine it fell behind the rate by itself.
  const target = new URL(spec.url);
  const head = Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const requests = spec.paths.slice(0, 5000).map((p) => Buffer.from(`GET ${p} HTTP/1.1\r\nhost: ${target.host}\r\n${head}\r\n`));
  let next = Math.floor(Math.random() * requests.length);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const interval = 1000 / spec.overallRate;
  const queue: number[] = []; // due times of requests waiting for a free connection
  interface Conn { socket: net.Socket; due: number; buf: Buffer; busy: boolean; closed: boolean }
  const idle: Conn[] = [];
  const send = (c: Conn, due: number) => {
    c.busy = true;
    c.due = due;
    c.socket.write(requests[(next = (next + 1) % requests.length)]);
  };
  const conns = await Promise.all(Array.from({ length: spec.connections }, () => new Promise<Conn>((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname, () => resolve(c));
    const c: Conn = { socket, due: 0, buf: Buffer.alloc(0), busy: false, closed: false };
    socket.setNoDelay(true);
    socket.on('error', (e) => { errors++; reject(e); });
    // A connection the server closed: its request in flight is an error, and it takes no more.
    socket.on('close', () => {
      c.closed = true;
      if (c.busy) { errors++; c.busy = false; }
    });
    socket.on('data', (chunk) => {
      c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
      for (;;) {
        const end = c.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const header = c.buf.subarray(0, end).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(header)?.[1] ?? 0);
        if (c.buf.length < end + 4 + length) return;
        c.buf = c.buf.subarray(end + 4 + length);
        const status = Number(header.slice(9, 12));
        if (status >= 300) non2xx++;
        else latencies.push(performance.now() - c.due);
        c.busy = false;
        const due = queue.shift();
        if (due !== undefined) send(c, due);
        else idle.push(c);
      }
    });
  })));
  idle.push(...conns);
  const start = performance.now();
  const end = start + spec.duration * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (start + sent * interval <= Math.min(now, end)) {
        const due = start + sent++ * interval;
        let c = idle.pop();
        while (c?.closed) c = idle.pop();
        if (c) send(c, due);
        else queue.push(due);
      }
      if (now < end) return void setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      // Waits for the answers still due, 10 s at most: what is missing then counts as errors (never a hang).
      const drained = () => {
        if (queue.length === 0 && conns.every((c) => !c.busy)) return resolve();
        if (performance.now() > end + 10_000) {
          errors += queue.length + conns.filter((c) => c.busy).length;
          return resolve();
        }
        setTimeout(drained, 5);
      };
      drained();
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000; // longer than the duration when the server fell behind
  for (const c of conns) c.socket.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(1));
  return { rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), errors, non2xx, total: latencies.length + non2xx };
}

/** Batch checks from the load child (a client of its own, like any caller): wall time of each POST, in ms. */
async function batchLoad(spec: LoadSpec & { batch: NonNullable<LoadSpec['batch']> }): Promise<number[]> {
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let round = 0; round < spec.batch.rounds; round++) {
    const userIds = Array.from({ length: spec.batch.size }, () => `user-${1 + Math.floor(Math.random() * spec.batch.users)}`);
    const t0 = performance.now();
    const body = JSON.stringify({ userIds, reasons: spec.batch.reasons });
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: target.hostname, port: target.port, path: spec.paths[0], method: 'POST', headers: spec.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`batch: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    const results = (JSON.parse(answer) as { results: unknown[] }).results;
    times.push(performance.now() - t0);
    if (results.length !== spec.batch.size) throw new Error('batch answered the wrong number of users');
  }
  agent.destroy();
  return times;
}

/** Child-process mode: run autocannon (or the paced load, or batches) with the given spec and print its figures as JSON. */
async function loadMode(spec: LoadSpec) {
  if (spec.batch) {
    process.stdout.write(JSON.stringify(await batchLoad({ ...spec, batch: spec.batch })));
    return;
  }
  if (spec.paced && spec.overallRate) {
    process.stdout.write(JSON.stringify(await pacedLoad({ ...spec, overallRate: spec.overallRate })));
    return;
  }
  // autocannon ships no types; the few fields read here are typed below.
  const moduleName = 'autocannon';
  type Result = { requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number };
  const { default: autocannon } = (await import(moduleName)) as { default: (opts: Record<string, unknown>) => Promise<Result> };
  let i = Math.floor(Math.random() * spec.paths.length);
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    headers: spec.headers,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: spec.paths[(i = (i + 1) % spec.paths.length)] }) }],
  });
  const out: LoadResult = {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
  process.stdout.write(JSON.stringify(out));
}

function runLoad(spec: LoadSpec & { batch: NonNullable<LoadSpec['batch']> }): Promise<number[]>;
function runLoad(spec: LoadSpec): Promise<LoadResult>;
function runLoad(spec: LoadSpec): Promise<LoadResult | number[]> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--load'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load child exited ${code}`))));
    child.stdin.end(JSON.stringify(spec));
  });
}

/** Runs fn under the V8 profiler when BENCH_PROFILE is set (the profile is of this process: the gateway). */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    fs.writeFileSync(path.join(PROFILE_DIR, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** CPU time (µs) used so far by the PostgreSQL backends connected to one database (from /proc; 0 when not local). */
async function backendCpuUs(admin: pg.Client, dbName: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]);
  const tick = 1e6 / 100; // USER_HZ
  let total = 0;
  for (const { pid } of rows) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch { /* gone, or not on this machine */ }
  }
  return total;
}

async function main() {
  const { startGateway } = await import('../src/server.js');
  const { loadConfig } = await import('../src/config.js');
  const base = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `ag_bench_audience_${process.pid}`;
  const dbUrl = new URL(base);
  dbUrl.pathname = `/${dbName}`;
  const adminUrl = new URL(base);
  adminUrl.pathname = '/postgres';
  const adminToken = `bench-${crypto.randomBytes(12).toString('hex')}`;

  const config = loadConfig({
    ...process.env,
    DATABASE_URL: dbUrl.toString(),
    ROLE: 'api',
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken,
    SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    DATA_DIR: path.join(os.tmpdir(), `ag-bench-${process.pid}`),
    LOG_LEVEL: 'silent',
  });
  const gateway = await startGateway(config);
  const noop = express();
  noop.disable('x-powered-by');
  noop.set('etag', false);
  noop.get('/noop', (_req, res) => { res.json({ ok: true }); });
  const noopServer = http.createServer(noop);
  await new Promise<void>((r) => noopServer.listen(0, '127.0.0.1', r));
  const noopUrl = `http://127.0.0.1:${(noopServer.address() as { port: number }).port}`;

  try {
    const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${gateway.url}${p}`, { method, headers: auth, body: body ? JSON.stringify(body) : undefined });
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const ws = (await api('POST', '/api/workspaces', { name: 'bench' })) as { id: string };
    const db = gateway.ctx.db;
    console.log(`setting up ${USERS.toLocaleString()} users and three segments...`);
    await db.raw(
      `insert into users (workspace_id, user_id, first_seen_at, last_seen_at)
       select ?, 'user-' || i, now(), now() from generate_series(1, ?) i`,
      [ws.id, USERS],
    );
    const segment = async (name: string, modulo: number) => {
      const [row] = await db('segments').insert({ workspace_id: ws.id, name, type: 'static', status: 'active' }).returning('id');
      await db.raw(
        `insert into segment_members (workspace_id, segment_id, user_id)
         select ?, ?, 'user-' || i from generate_series(1, ?) i where i % ? = 0`,
        [ws.id, row.id, USERS, modulo],
      );
      return row.id as string;
    };
    const a = await segment('A (1 in 3)', 3);
    const b = await segment('B (1 in 2)', 2);
    const c = await segment('C (1 in 10)', 10);
    await db.raw('vacuum analyze users, segments, segment_members');
    const audience = (await api('POST', `/api/workspaces/${ws.id}/audiences`, { name: 'A or B, not C', include: [a, b], match: 'any', exclude: [c] })) as { id: string };
    const { size } = (await api('GET', `/api/workspaces/${ws.id}/audiences/${audience.id}`)) as { size: number };
    console.log(`audience size ${size.toLocaleString()} of ${USERS.toLocaleString()} users`);

    const paths = Array.from({ length: 20_000 }, () => `/api/workspaces/${ws.id}/audiences/${audience.id}/check/user-${1 + Math.floor(Math.random() * USERS)}`);
    const sample = await api('GET', paths[0]);
    console.log('one check:', JSON.stringify(sample).slice(0, 200), '...');

    // warm-up (JIT, pool connections, plan caches)
    await runLoad({ url: noopUrl, paths: ['/noop'], headers: {}, connections: CONNECTIONS, duration: 2 });
    await runLoad({ url: gateway.url, paths, headers: auth, connections: CONNECTIONS, duration: 2 });

    // CPU spent per request in this (server) process and in the PostgreSQL backends of the bench database:
    // far less sensitive to what else the machine is doing than req/s.
    const pgAdmin = new pg.Client({ connectionString: adminUrl.toString() });
    await pgAdmin.connect();
    const cpuPer = async (spec: LoadSpec) => {
      const pgBefore = await backendCpuUs(pgAdmin, dbName);
      const before = process.cpuUsage();
      const r = await runLoad(spec);
      const used = process.cpuUsage(before);
      const pgUsed = (await backendCpuUs(pgAdmin, dbName)) - pgBefore;
      const n = Math.max(1, r.total);
      return { ...r, cpuUs: (used.user + used.system) / n, pgUs: pgUsed / n };
    };
    const cpus = os.cpus();
    const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
    const out: string[] = [];
    if (ONLY.has('max')) {
      // The machine is shared: no-op and check runs alternate, and each pair gives one ratio, so a change
      // in background load between phases skews one pair rather than the result.
      type Run = LoadResult & { cpuUs: number; pgUs: number };
      const pairs: { noop: Run; check: Run }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const noop = await profiled(`noop-max-${round}`, () => cpuPer({ url: noopUrl, paths: ['/noop'], headers: {}, connections: CONNECTIONS, duration: DURATION }));
        const check = await profiled(`check-max-${round}`, () => cpuPer({ url: gateway.url, paths, headers: auth, connections: CONNECTIONS, duration: DURATION }));
        pairs.push({ noop, check });
        console.log(`round ${round + 1}: no-op ${noop.rps.toFixed(0)} req/s, check ${check.rps.toFixed(0)} checks/s, ratio ${(check.rps / noop.rps).toFixed(2)}; server CPU ${noop.cpuUs.toFixed(0)} / ${check.cpuUs.toFixed(0)} µs, PostgreSQL ${check.pgUs.toFixed(0)} µs per check (load ${load()})`);
      }
      const median = <T>(xs: T[], by: (x: T) => number) => [...xs].sort((x, y) => by(x) - by(y))[Math.floor(xs.length / 2)];
      const { noop: noopMax, check: checkMax } = median(pairs, (p) => p.check.rps / p.noop.rps);
      out.push(`no-op Express GET:        ${noopMax.rps.toFixed(0)} req/s   p50 ${noopMax.p50} ms  p99 ${noopMax.p99} ms  (${CONNECTIONS} connections, ${DURATION}s; ${noopMax.cpuUs.toFixed(0)} µs server CPU/request)`);
      out.push(`audience check (max):     ${checkMax.rps.toFixed(0)} checks/s  p50 ${checkMax.p50} ms  p99 ${checkMax.p99} ms  errors ${checkMax.errors} non-2xx ${checkMax.non2xx}; ${checkMax.cpuUs.toFixed(0)} µs server CPU + ${checkMax.pgUs.toFixed(0)} µs PostgreSQL CPU per check`);
      out.push(`ratio check / no-op:      ${(checkMax.rps / noopMax.rps).toFixed(2)}  (median of ${ROUNDS} alternating pairs; target ≥ 0.5)`);
    }
    if (ONLY.has('fixed')) {
      const fixedSeconds = Number(process.env.BENCH_FIXED_SECONDS ?? 10);
      // A steady 1,000 checks/s (see pacedLoad), the no-op handler at the same rate for reference, and
      // autocannon's overallRate (bursts at full speed each second) as the earlier figures were taken.
      const noopPaced = await profiled('noop-fixed', () => cpuPer({ url: noopUrl, paths: ['/noop'], headers: {}, connections: 16, duration: fixedSeconds, overallRate: 1000, paced: true }));
      const paced = await profiled('check-fixed', () => cpuPer({ url: gateway.url, paths, headers: auth, connections: 16, duration: fixedSeconds, overallRate: 1000, paced: true }));
      const bursts = await cpuPer({ url: gateway.url, paths, headers: auth, connections: 16, duration: fixedSeconds, overallRate: 1000 });
      out.push(`at a steady 1,000 checks/s: ${paced.rps.toFixed(0)} checks/s  p50 ${paced.p50} ms  p99 ${paced.p99} ms  errors ${paced.errors} non-2xx ${paced.non2xx}  (target p99 ≤ 10 ms; ${paced.cpuUs.toFixed(0)} µs server CPU + ${paced.pgUs.toFixed(0)} µs PostgreSQL CPU per check)`);
      out.push(`  no-op at a steady 1,000/s: p50 ${noopPaced.p50} ms  p99 ${noopPaced.p99} ms  (${noopPaced.cpuUs.toFixed(0)} µs server CPU/request)`);
      out.push(`  autocannon overallRate 1,000 (a burst each second): ${bursts.rps.toFixed(0)} checks/s  p50 ${bursts.p50} ms  p99 ${bursts.p99} ms`);
    }
    if (ONLY.has('batch')) {
      const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
      // batch form: 1,000 users per request, from a client in the load child (its JSON work is not the
      // gateway's), then as before from this process (fetch; the client shares the gateway's event loop)
      const batchPath = `/api/workspaces/${ws.id}/audiences/${audience.id}/check`;
      const childTimes = (await profiled('batch', () => runLoad({
        url: gateway.url, paths: [batchPath], headers: auth, connections: 1, duration: 0,
        batch: { size: 1000, users: USERS, rounds: 30, reasons: false },
      }))).slice(5);
      const batchTimes: number[] = [];
      for (let round = 0; round < 30; round++) {
        const userIds = Array.from({ length: 1000 }, () => `user-${1 + Math.floor(Math.random() * USERS)}`);
        const t0 = performance.now();
        const res = (await api('POST', batchPath, { userIds, reasons: false })) as { results: unknown[] };
        const ms = performance.now() - t0;
        if (res.results.length !== 1000) throw new Error('batch answered the wrong number of users');
        if (round >= 5) batchTimes.push(ms);
      }
      const batchWithReasons: number[] = [];
      for (let round = 0; round < 10; round++) {
        const userIds = Array.from({ length: 1000 }, () => `user-${1 + Math.floor(Math.random() * USERS)}`);
        const t0 = performance.now();
        await api('POST', `/api/workspaces/${ws.id}/audiences/${audience.id}/check`, { userIds });
        batchWithReasons.push(performance.now() - t0);
      }
      const { checkUsers } = await import('../src/audiences/audiences.js');
      const domainTimes: number[] = [];
      for (let round = 0; round < 20; round++) {
        const userIds = Array.from({ length: 1000 }, () => `user-${1 + Math.floor(Math.random() * USERS)}`);
        const t0 = performance.now();
        await checkUsers(db, ws.id, audience.id, userIds);
        domainTimes.push(performance.now() - t0);
      }
      out.push(`batch of 1,000 users:     median ${pct(childTimes, 50).toFixed(1)} ms  p95 ${pct(childTimes, 95).toFixed(1)} ms  (over HTTP from another process, reasons: false; target ≤ 20 ms)`);
      out.push(`  same, client in the gateway process (fetch): median ${pct(batchTimes, 50).toFixed(1)} ms  p95 ${pct(batchTimes, 95).toFixed(1)} ms`);
      out.push(`batch, domain function:   median ${pct(domainTimes, 50).toFixed(1)} ms  (checkUsers without HTTP/JSON: the query and the decisions)`);
      out.push(`batch with reasons:       median ${pct(batchWithReasons, 50).toFixed(1)} ms`);
    }
    await pgAdmin.end();

    console.log(`\nmachine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${load()} (shared machine)`);
    for (const line of out) console.log(line);
  } finally {
    noopServer.close();
    await gateway.stop();
    const admin = new pg.Client({ connectionString: adminUrl.toString() });
    await admin.connect();
    if (process.env.BENCH_KEEP_DB) console.log(`kept database ${dbName}`);
    else await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

if (process.argv.includes('--load')) {
  let input = '';
  process.stdin.on('data', (c) => (input += c));
  process.stdin.on('end', () => {
    loadMode(JSON.parse(input) as LoadSpec).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  });
} else {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
