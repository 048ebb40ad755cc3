/**
 * Users directory latency with 1,000,000 users in one workspace.
 *
 *   npx tsx bench/users-list.ts            (USERS=200000 ITERATIONS=200 to shorten)
 *
 * Creates its own database on TEST_DATABASE_URL / DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * generates the users set-based (generate_series), runs VACUUM ANALYZE, then measures through HTTP (a started
 * server, keep-alive node:http client), the domain function alone (its SQL round trips) and the page statement alone:
 * p50 / p99 per scenario. ONLY=<text> runs the scenarios whose name contains it.
 * The database is dropped at the end (KEEP_DB=1 keeps it).
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createDb } from '../src/db/knex.js';
import { migrate } from '../src/db/migrate.js';
import { createApp } from '../src/http/app.js';
import { loadConfig } from '../src/config.js';
import { GroupCommitWriter } from '../src/ingest/writer.js';
import { SecretBox } from '../src/lib/crypto.js';
import { systemClock } from '../src/lib/clock.js';
import { createWorkspace } from '../src/workspaces/store.js';
import { listUsers, pageQuery } from '../src/profiles/directory.js';
import { UserListQuery } from '../src/profiles/directory-schema.js';

const USERS = Number(process.env.USERS ?? 1_000_000);
const ITERATIONS = Number(process.env.ITERATIONS ?? 300);
const ONLY = process.env.ONLY; // run only the scenarios whose name contains this
const WARMUP = 30;
const TOKEN = 'bench-admin-token-0123456789';
const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `ag_bench_users_${process.pid}`;
const url = (() => { const u = new URL(adminUrl); u.pathname = `/${dbName}`; return u.toString(); })();

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Dennis',
  'Katherine', 'John', 'Hedy', 'Tim', 'Sophie', 'Guido', 'Anita', 'Bjarne'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson',
  'Perlman', 'Ritchie', 'Johnson', 'McCarthy', 'Lamarr', 'Berners-Lee', 'Wilson', 'van Rossum', 'Borg', 'Stroustrup'];
const DOMAINS = ['gmail.com', 'acme.io', 'example.org', 'outlook.com', 'initech.com', 'globex.net', 'hooli.xyz'];
const sqlArray = (xs: string[]) => `(array[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}])`;

async function generate(db: ReturnType<typeof createDb>, workspaceId: string, otherId: string) {
  // Users: ids like "u_0004f2a1c3", names from small lists, emails first.last<n>@domain; first seen over the last
  // year, last seen between then and now, a fifth of them with a survey response.
  const insertUsers = (ws: string, n: number, seed: number) => db.raw(
    `insert into users (workspace_id, user_id, traits, trait_times, first_seen_at, last_seen_at, last_survey_response_at)
     select ?, 'u_' || substr(md5(? || '-' || g), 1, 6) || '_' || g,
            jsonb_build_object('email', lower(f) || '.' || lower(replace(l, ' ', '')) || g || '@' || d,
                               'name', f || ' ' || l, 'plan', (array['free','pro','enterprise'])[1 + g % 3], 'logins', g % 97),
            '{}', fs, ls, case when g % 5 = 0 then ls - interval '1 hour' * (g % 48) end
       from generate_series(1, ?) g,
            lateral (select ${sqlArray(FIRST)}[1 + (g * 7) % ${FIRST.length}] as f,
                            ${sqlArray(LAST)}[1 + (g * 13) % ${LAST.length}] as l,
                            ${sqlArray(DOMAINS)}[1 + g % ${DOMAINS.length}] as d,
                            now() - interval '365 days' * random() as fs) a,
            lateral (select fs + (now() - fs) * random() as ls) b`,
    [ws, seed, n],
  );
  // Loading is faster with the secondary indexes built afterwards in one sorted pass: take their definitions from
  // the migrated schema, drop them, load, and create them again exactly as the migration wrote them.
  const { rows: indexes } = await db.raw(
    `select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'users' and indexname <> 'users_pkey'`,
  );
  for (const ix of indexes) await db.raw(`drop index ${ix.indexname}`);
  await insertUsers(workspaceId, USERS, 1);
  await insertUsers(otherId, Math.min(50_000, USERS), 2);
  await db.transaction(async (trx) => {
    await trx.raw(`set local maintenance_work_mem = '256MB'`);
    for (const ix of indexes) await trx.raw(ix.indexdef);
  });
  // A static segment holding a tenth of the users, and a small one.
  const [big] = await db('segments').insert({ workspace_id: workspaceId, name: 'Pro users', type: 'static', status: 'active' }).returning('id');
  const [small] = await db('segments').insert({ workspace_id: workspaceId, name: 'Beta testers', type: 'static', status: 'active' }).returning('id');
  await db.raw(
    `insert into segment_members (workspace_id, segment_id, user_id, entered_at)
     select workspace_id, ?::uuid, user_id, last_seen_at from users where workspace_id = ? and traits ->> 'plan' = 'pro' and (traits ->> 'logins')::int < 29
     union all
     select workspace_id, ?::uuid, user_id, last_seen_at from users where workspace_id = ? and traits ->> 'logins' = '42' and random() < 0.05`,
    [big.id, workspaceId, small.id, workspaceId],
  );
  await db.raw('vacuum analyze users');
  await db.raw('vacuum analyze segment_members');
  return { bigSegment: big.id as string, smallSegment: small.id as string };
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(name: string, fn: () => Promise<unknown>) {
  if (ONLY && !name.includes(ONLY)) return;
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const row = { scenario: name, p50: percentile(times, 50).toFixed(2), p99: percentile(times, 99).toFixed(2), max: times[times.length - 1].toFixed(2) };
  console.log(`${row.scenario.padEnd(52)} p50 ${row.p50.padStart(7)} ms   p99 ${row.p99.padStart(7)} ms   max ${row.max.padStart(7)} ms`);
  return row;
}

async function main() {
  const cpus = os.cpus();
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`machine: ${cpus.length} x ${cpus[0]?.model} (shared with other engineers' test runs), node ${process.version}, load average ${load()}`);
  const reuse = process.env.BENCH_DB; // an existing database from a KEEP_DB=1 run: skip generation
  if (!reuse) await admin(`create database ${dbName}`);
  const db = createDb(reuse ? url.replace(dbName, reuse) : url, 10);
  try {
    const t0 = Date.now();
    let workspace: { id: string };
    let seg: { bigSegment: string; smallSegment: string };
    if (reuse) {
      workspace = await db('workspaces').where({ name: 'Bench' }).first('id');
      const ids = Object.fromEntries((await db('segments').where({ workspace_id: workspace.id }).select('name', 'id')).map((r) => [r.name, r.id]));
      seg = { bigSegment: ids['Pro users'], smallSegment: ids['Beta testers'] };
    } else {
      await migrate(db, url);
      ({ workspace } = await createWorkspace(db, 'Bench'));
      const { workspace: other } = await createWorkspace(db, 'Other');
      seg = await generate(db, workspace.id, other.id);
    }
    const pgVersion = (await db.raw('show server_version')).rows[0].server_version;
    const count = (await db.raw('select count(*)::int as n from users where workspace_id = ?', [workspace.id])).rows[0].n;
    console.log(`PostgreSQL ${pgVersion}; ${count.toLocaleString()} users in the workspace (+ another workspace)${reuse ? ` (reused ${reuse})` : `, generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`);

    // A search term taken from the data: an email prefix that matches a handful of users.
    const sample = (await db.raw(`select traits ->> 'email' as email from users where workspace_id = ? and user_id like ? limit 1`, [workspace.id, `%\\_${Math.min(123457, USERS)}`])).rows[0].email as string;
    const emailPrefix = sample.slice(0, sample.indexOf('@') - 1);
    console.log(`email prefix searched: "${emailPrefix}"`);

    const ctx = {
      db,
      config: { ...loadConfig({ ...process.env, DATABASE_URL: url, ADMIN_TOKEN: TOKEN }), LOG_LEVEL: 'silent' as const },
      secrets: new SecretBox('bench-secret'),
      adminToken: TOKEN,
      writer: new GroupCommitWriter(db),
      clock: systemClock,
    };
    const server = http.createServer(createApp(ctx));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/workspaces/${workspace.id}/users`;
    // node:http with a keep-alive agent: a light client, so the figures are the server's (fetch/undici costs more
    // CPU per request, and client and server share this process).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (qs: string) => new Promise<{ users: unknown[]; total: number; totalIsEstimate: boolean; nextCursor: string | null }>((resolve, reject) => {
      const req = http.get(`${base}?${qs}`, { agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
      });
      req.on('error', reject);
    });
    const direct = (q: Record<string, string>) => listUsers(db, workspace.id, UserListQuery.parse(q), new Date());

    const first = await get('');
    const search = await get(`q=${encodeURIComponent(emailPrefix)}`);
    console.log(`first page: ${first.users.length} rows, total ${first.total}${first.totalIsEstimate ? ' (estimate)' : ''}; search: ${search.users.length} rows, total ${search.total}`);
    const page2 = first.nextCursor!;

    console.log(`\n${ITERATIONS} iterations each after ${WARMUP} warm-up, one request at a time:`);
    await measure('HTTP  first page (lastSeenAt desc, limit 50)', () => get(''));
    await measure('HTTP  search by email prefix', () => get(`q=${encodeURIComponent(emailPrefix)}`));
    await measure('listUsers first page (page + total queries)', () => direct({}));
    await measure('listUsers search by email prefix', () => direct({ q: emailPrefix }));
    const firstSql = pageQuery({ workspaceId: workspace.id }, 'lastSeenAt', 'desc', undefined, 51);
    const searchSql = pageQuery({ workspaceId: workspace.id, q: emailPrefix }, 'lastSeenAt', 'desc', undefined, 51);
    await measure('SQL   first page statement alone', () => db.raw(firstSql.sql, firstSql.bindings));
    await measure('SQL   search statement alone', () => db.raw(searchSql.sql, searchSql.bindings));
    await measure('HTTP  second page (cursor)', () => get(`cursor=${page2}`));
    await measure('HTTP  search by name "ada lov"', () => get('q=ada%20lov'));
    await measure('HTTP  segment filter (10% of users)', () => get(`segmentId=${seg.bigSegment}`));
    await measure('HTTP  segment filter (small segment)', () => get(`segmentId=${seg.smallSegment}`));
    await measure('HTTP  sort lastSurveyResponseAt desc', () => get('sort=lastSurveyResponseAt'));
    await measure('HTTP  seen within 7 days, firstSeenAt asc', () => get('seenWithinDays=7&sort=firstSeenAt&order=asc'));
    agent.destroy();
    server.close();
    console.log(`load average at the end: ${load()}`);
  } finally {
    await db.destroy();
    if (!process.env.KEEP_DB && !reuse) await admin(`drop database if exists ${dbName} with (force)`);
    else console.log(`kept database ${reuse ?? dbName}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
