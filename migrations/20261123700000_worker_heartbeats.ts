import type { Knex } from 'knex';

// Worker heartbeats: one row per live graphile-worker pool (its id is what graphile-worker writes to jobs.locked_by).
// A row whose heartbeat stopped is a crashed worker: its locked jobs are unlocked (src/outbound/heartbeat.ts).
// Not tenant data: worker processes serve every workspace, so there is no workspace_id here.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table worker_heartbeats (
      worker_id text primary key,
      role text not null,
      host text not null,
      pid int not null,
      started_at timestamptz not null default now(),
      heartbeat_at timestamptz not null default now()
    );
    create index worker_heartbeats_at_idx on worker_heartbeats (heartbeat_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists worker_heartbeats;`);
}
