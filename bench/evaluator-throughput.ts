/**
 * Incremental evaluator throughput, without HTTP: the 50 segments of bench/incremental over 50,000 users with
 * events, then rounds of N dirty users (marked the way ingest marks users seen recently: 'attribute:lastSeenAt' +
 * 'event:<name>' for tracks, 'trait:plan', 'trait:score' for identifies) drained by evaluateUntilIdle. Prints dirty users/s, Node CPU and
 * PostgreSQL backend CPU per dirty user (CPU per unit of work is what to compare on a shared machine).
 *
 *   npx tsx bench/evaluator-throughput.ts     (DIRTY=4000 per round, ROUNDS=3, EVALUATOR_BATCH=200, USERS=50000)
 */
import fs from 'node:fs';
import pg from 'pg';
import { createDb } from '../src/db/knex.js';
import { migrate } from '../src/db/migrate.js';
import { sha256, randomToken } from '../src/lib/crypto.js';
import { evaluateFull } from '../src/segments/evaluate.js';
import { evaluateUntilIdle } from '../src/segments/incremental.js';
import { insertSegment } from '../src/segments/store.js';
import type { Definition } from '../src/segments/schema.js';
import { machineLine } from './lib/machine.js';
import { definitions, EVENTS } from './lib/segment-definitions.js';

const USERS = Number(process.env.USERS ?? 50_000);
const DIRTY = Number(process.env.DIRTY ?? 4000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BATCH = Number(process.env.EVALUATOR_BATCH ?? 200);
const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `ag_bench_evt_${process.pid}`;

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

/** utime + stime of a process in ms (clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch { return 0; }
}

async function main() {
  console.log(machineLine());
  console.log(`users ${USERS}, 50 active segments, ${DIRTY} dirty users per round, batch ${BATCH}\n`);
  await admin(`create database ${dbName}`);
  const u = new URL(server);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const db = createDb(url, 4);
  try {
    await migrate(db, url);
    const [ws] = await db('workspaces').insert({ name: 'bench', ingest_key_hash: sha256(randomToken()), ingest_key_hint: 'bench' }).returning('id');
    const workspaceId = ws.id as string;
    const now = new Date();
    await db.raw(
      `insert into users (workspace_id, user_id, traits, first_seen_at, last_seen_at)
       select ?::uuid, 'u' || i, jsonb_build_object('plan', (array['pro', 'free', 'team', 'enterprise'])[1 + i % 4], 'score', i % 100), now(), now()
         from generate_series(0, ? - 1) i`,
      [workspaceId, USERS],
    );
    // 20 events per user over the last 10 days, and their counters.
    await db.raw(
      `insert into events (workspace_id, message_id, type, user_id, event, properties, timestamp, received_at)
       select ?::uuid, 'm' || g, 'track', 'u' || (g % ?), (?::text[])[1 + (g / 7) % 10],
              jsonb_build_object('plan', (array['pro', 'free', 'team', 'enterprise'])[1 + g % 4]),
              now() - (g % 10) * interval '1 day', now()
         from generate_series(0, ? * 20 - 1) g`,
      [workspaceId, USERS, EVENTS, USERS],
    );
    await db.raw(`insert into event_counts (workspace_id, user_id, event, day, count)
      select workspace_id, user_id, event, (timestamp at time zone 'UTC')::date, count(*) from events group by 1, 2, 3, 4`);
    await db.raw(`delete from dirty_users`);
    if (!process.env.NO_ANALYZE) await db.raw(`vacuum analyze`);
    for (const [i, definition] of definitions().entries()) {
      const s = await insertSegment(db, workspaceId, { name: `s${i}`, type: 'dynamic', definition: definition as Definition });
      await db('segments').where({ id: s.id }).update({ status: 'active' });
      await evaluateFull(db, workspaceId, s.id, { cause: 'full', now });
    }
    // NO_ANALYZE=1: no statistics after the bulk load, as in bench/incremental (plans must not depend on them).
    if (!process.env.NO_ANALYZE) await db.raw(`vacuum analyze`);

    for (let round = 0; round < ROUNDS; round++) {
      // Dirty marks shaped like the bench traffic: 4 of 5 messages are tracks, 1 of 5 identifies.
      await db.raw(
        `insert into dirty_users (workspace_id, user_id, inputs)
         select ?::uuid, 'u' || (hashint4(g + ?) & 2147483647) % ?,
                case when g % 5 = 0 then array['attribute:lastSeenAt', 'trait:plan', 'trait:score']
                     else array['attribute:lastSeenAt', 'event:' || (?::text[])[1 + g % 10]] end
           from generate_series(1, ?) g
         on conflict do nothing`,
        [workspaceId, round * 1_000_003, USERS, EVENTS, DIRTY],
      );
      const n = (await db.raw(`select count(*)::int as n from dirty_users`)).rows[0].n as number;
      const backends = (await db.raw(`select pid from pg_stat_activity where datname = ?`, [dbName])).rows.map((r: { pid: number }) => r.pid) as number[];
      const pgBefore = backends.reduce((a, p) => a + procCpuMs(p), 0);
      const cpu = process.cpuUsage();
      const t = performance.now();
      await evaluateUntilIdle(db, () => now, BATCH);
      const ms = performance.now() - t;
      const nodeMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
      const backendsAfter = (await db.raw(`select pid from pg_stat_activity where datname = ?`, [dbName])).rows.map((r: { pid: number }) => r.pid) as number[];
      const pgMs = backendsAfter.reduce((a, p) => a + procCpuMs(p), 0) - pgBefore;
      console.log(`round ${round}: ${n} dirty users in ${(ms / 1000).toFixed(2)} s = ${(n / (ms / 1000)).toFixed(0)} users/s; ` +
        `node CPU ${(nodeMs / n * 1000).toFixed(0)} µs/user, PostgreSQL CPU ${(pgMs / n * 1000).toFixed(0)} µs/user; load ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
    }
  } finally {
    await db.destroy();
    if (process.env.KEEP) console.log(`kept database ${dbName}`);
    else await admin(`drop database if exists ${dbName} with (force)`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
