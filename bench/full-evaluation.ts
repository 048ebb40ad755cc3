/**
 * Full evaluation at scale: 1,000,000 users and 10,000,000 events in one workspace (generated set-based in
 * PostgreSQL; event_counts derived set-based), then a full evaluation of a three-condition segment
 * (trait, event count in 30 days, attribute window) timed beside a plain count(*) over the events.
 *
 *   npx tsx bench/full-evaluation.ts            (USERS=1000000 EVENTS=10000000 by default; KEEP=1 keeps the database)
 *
 * Uses BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL (a server URL; the script creates its own database),
 * default postgres://postgres@127.0.0.1:5432/test.
 */
import pg from 'pg';
import { createDb } from '../src/db/knex.js';
import { migrate } from '../src/db/migrate.js';
import { sha256, randomToken } from '../src/lib/crypto.js';
import { evaluateFull } from '../src/segments/evaluate.js';
import { previewDefinition } from '../src/segments/evaluate.js';
import { insertSegment } from '../src/segments/store.js';
import type { Definition } from '../src/segments/schema.js';
import { machineLine } from './lib/machine.js';

const USERS = Number(process.env.USERS ?? 1_000_000);
const EVENTS = Number(process.env.EVENTS ?? 10_000_000);
/** Connections generating events at once (LOADERS=1 on a busy machine gives the same data). */
const LOADERS = Number(process.env.LOADERS ?? 2);
const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `ag_bench_full_${process.pid}`;

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: server });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

const time = async <T>(label: string, fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t = performance.now();
  const value = await fn();
  const ms = performance.now() - t;
  console.log(`${label.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(8)} s`);
  return { ms, value };
};

async function main() {
  console.log(machineLine());
  console.log(`data: ${USERS.toLocaleString()} users, ${EVENTS.toLocaleString()} events, one workspace\n`);
  await admin(`create database ${dbName}`);
  const u = new URL(server);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const db = createDb(url, 1); // one connection: the session settings below apply to every statement
  try {
    await migrate(db, url);
    const [ws] = await db('workspaces').insert({ name: 'bench', ingest_key_hash: sha256(randomToken()), ingest_key_hint: 'bench' }).returning('id');
    const workspaceId = ws.id as string;
    const now = new Date();

    const loadStart = performance.now();
    // Bulk load into the bench's own database: the three tables evaluation reads are made UNLOGGED while empty (their
    // foreign keys to workspaces dropped: an unlogged table may not reference a logged one), so the load writes no WAL
    // and triggers no checkpoints; their indexes are built after the load. Reads are the same as from logged tables;
    // what evaluation writes (segment_members, membership_log, size history) stays logged.
    // session_replication_role = replica skips triggers while loading.
    await db.raw(`set synchronous_commit = off; set work_mem = '512MB'; set maintenance_work_mem = '1GB'; set session_replication_role = replica`);
    await db.raw(`alter table users drop constraint users_workspace_id_fkey, drop constraint users_pkey;
                  alter table events drop constraint if exists events_workspace_id_fkey, drop constraint events_pkey, drop constraint events_workspace_id_message_id_key;
                  alter table event_counts drop constraint event_counts_workspace_id_fkey, drop constraint event_counts_pkey;
                  drop index event_counts_event_idx;
                  alter table users set unlogged; alter table events set unlogged; alter table event_counts set unlogged`);
    // The users directory's search/sort indexes and the events' own indexes are not read by evaluation (nor rebuilt).
    const { rows: otherIndexes } = await db.raw(`select indexname from pg_indexes where tablename in ('users', 'events') and schemaname = 'public'`);
    for (const { indexname } of otherIndexes as { indexname: string }[]) await db.raw(`drop index ${JSON.stringify(indexname)}`);
    console.log('(bench database: users, events and event_counts unlogged, indexes built after the load; events and users secondary indexes not rebuilt: evaluation reads neither)');
    await time('generate users (insert … select generate_series)', async () => {
      await db.raw(
        `insert into users (workspace_id, user_id, traits, first_seen_at, last_seen_at)
         select ?::uuid, 'u' || i,
                jsonb_build_object('plan', (array['pro', 'free', 'team', 'Pro'])[1 + i % 4], 'n', i % 100, 'email', 'user' || i || '@example.com'),
                ?::timestamptz - (i % 365) * interval '1 day',
                ?::timestamptz - (i % 60) * interval '1 day' - (i % 86400) * interval '1 second'
           from generate_series(1, ?) i`,
        [workspaceId, now, now, USERS],
      );
    });
    await time(`generate events and their event_counts (10 names, 90 days; 1M-event chunks, ${LOADERS} at a time)`, async () => {
      const chunk = 1_000_000;
      const chunks = Math.ceil(EVENTS / chunk);
      const todo = Array.from({ length: chunks }, (_, i) => i);
      // Each chunk's events belong to its own slice of the users (a random user of the slice per event), so the
      // chunk's counters are complete: they are aggregated from the rows the insert returns, in the same statement,
      // instead of one group by over all events at the end (a 10M-group aggregate that spilled to disk: 64 s).
      const loader = async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`set synchronous_commit = off; set session_replication_role = replica; set work_mem = '256MB'`);
          for (let i = todo.shift(); i !== undefined; i = todo.shift()) {
            const firstUser = Math.floor((i * USERS) / chunks);
            const users = Math.floor(((i + 1) * USERS) / chunks) - firstUser;
            // The id is given (overriding system value): no sequence call per row.
            await c.query(
              `with ev as (
                 insert into events (workspace_id, id, message_id, type, user_id, event, properties, timestamp, received_at)
                 overriding system value
                 select $1::uuid, g, 'm' || g, 'track', 'u' || (1 + $2 + (hashint8(g) & 2147483647) % $3),
                        (array['Upgrade', 'Login', 'Viewed Page', 'Invite', 'Export', 'Search', 'Share', 'Comment', 'Upload', 'Logout'])[1 + (g * 7) % 10],
                        jsonb_build_object('plan', (array['pro', 'free'])[1 + g % 2]),
                        $4::timestamptz - ((hashint8(g + 1) & 2147483647) % (90 * 86400)) * interval '1 second', $4::timestamptz
                   from generate_series($5::bigint, $6::bigint) g
                 returning user_id, event, timestamp
               )
               insert into event_counts (workspace_id, user_id, event, day, count)
               select $1::uuid, user_id, event, (timestamp at time zone 'UTC')::date, count(*)::int from ev group by 2, 3, 4`,
              [workspaceId, firstUser, users, now, i * chunk + 1, Math.min((i + 1) * chunk, EVENTS)],
            );
          }
        } finally {
          await c.end();
        }
      };
      await Promise.all(Array.from({ length: LOADERS }, loader));
    });
    // Only the indexes the evaluation reads are built: a definition without `where` filters never reads events
    // (the floor below is a sequential count either way).
    await time('build users and event_counts indexes (two connections)', async () => {
      const build = async (ddl: string) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try { await c.query(`set maintenance_work_mem = '1GB'; ${ddl}`); } finally { await c.end(); }
      };
      await Promise.all([
        // create index takes a SHARE lock (two builds on one table run side by side); add primary key would lock it all.
        build(`create unique index event_counts_pkey on event_counts (workspace_id, user_id, event, day) include (count);
               alter table event_counts add constraint event_counts_pkey primary key using index event_counts_pkey`),
        build(`alter table users add primary key (workspace_id, user_id);
               create index event_counts_event_idx on event_counts (workspace_id, event, day) include (user_id, count) where count > 0`),
      ]);
    });
    await db.raw(`reset all`); // evaluation runs with the server's own settings
    await time('vacuum analyze', async () => {
      await db.raw('vacuum analyze users, events, event_counts');
    });
    const counts = await db.raw(`select (select count(*) from users) as users, (select count(*) from events) as events, (select count(*) from event_counts) as counters`);
    console.log(`rows: ${JSON.stringify(counts.rows[0])}`);
    console.log(`data generated in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; ${machineLine()}\n`);

    const definition: Definition = {
      all: [
        { trait: 'plan', op: 'eq', value: 'pro' },
        { event: 'Upgrade', count: { op: 'gte', value: 1 }, withinDays: 30 },
        { attribute: 'lastSeenAt', op: 'within_last', days: 14 },
      ],
    };
    const segment = await insertSegment(db, workspaceId, { name: 'bench', type: 'dynamic', definition });
    await db('segments').where({ id: segment.id }).update({ status: 'active' });

    const floor = await time('floor: select count(*) from events', async () => (await db.raw(`select count(*) as n from events where workspace_id = ?`, [workspaceId])).rows[0].n);
    const preview = await time('preview (count of matches, no writes)', () => previewDefinition(db, workspaceId, definition, now, 10));
    const first = await time('full evaluation #1 (every member is new: writes + log)', () => evaluateFull(db, workspaceId, segment.id, { cause: 'full', now }));
    const second = await time('full evaluation #2 (nothing changed: diff only)', () => evaluateFull(db, workspaceId, segment.id, { cause: 'full', now }));
    const later = new Date(now.getTime() + 3 * 86_400_000);
    const third = await time('full evaluation #3 (3 days later: windows moved)', () => evaluateFull(db, workspaceId, segment.id, { cause: 'schedule', now: later }));
    console.log(`\nevents counted: ${floor.value}; matches: ${preview.value.count}`);
    console.log(`#1 ${JSON.stringify(first.value)}  #2 ${JSON.stringify(second.value)}  #3 ${JSON.stringify(third.value)}`);
    console.log(machineLine());
    console.log(`target ≤ 5 s for a full evaluation: #1 ${first.ms <= 5000 ? 'met' : 'missed'}, #2 ${second.ms <= 5000 ? 'met' : 'missed'}, #3 ${third.ms <= 5000 ? 'met' : 'missed'}`);
  } finally {
    await db.destroy();
    if (!process.env.KEEP) await admin(`drop database if exists ${dbName} with (force)`);
    else console.log(`kept database ${dbName}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
