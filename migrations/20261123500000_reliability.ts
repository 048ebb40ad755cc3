import type { Knex } from 'knex';

// Worker liveness: one row per graphile-worker worker id, refreshed every few seconds by its process. Jobs locked
// by a worker id without a recent heartbeat are freed for other workers (see src/worker-liveness.ts).
// Infrastructure like graphile_worker's own tables, so not keyed by workspace.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table worker_heartbeats (
      worker_id text primary key,
      pid integer,
      seen_at timestamptz not null default now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists worker_heartbeats');
}
