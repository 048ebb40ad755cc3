import type { Knex } from 'knex';

// The incremental evaluator probes one user's counters ("this user's events named X since day D") for every
// (segment, user) pair, and the plan must be the primary key whatever the statistics say. Before autoanalyze had
// seen the growing table, the planner rated event_counts_event_idx (covering, but with the user only as a filter)
// as cheap as the key, and each probe scanned every user's counters of that event in the window: 1.5–2 ms a probe,
// batches of 4 s (docs/segments.md). So:
// - the primary key carries `count` (INCLUDE): the probe is an index-only scan of the key that matches all of its
//   conditions. Writes cost the same: an increment changes `count`, which event_counts_event_idx includes, so every
//   update already inserted a new entry in both indexes;
// - event_counts_event_idx becomes partial (`count > 0`, true of every row): only queries that say so can use it,
//   which the whole-workspace scans (full evaluation, the admin page's top events) do and per-user probes do not.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table event_counts
      drop constraint event_counts_pkey,
      add constraint event_counts_pkey primary key (workspace_id, user_id, event, day) include (count);
    drop index event_counts_event_idx;
    create index event_counts_event_idx on event_counts (workspace_id, event, day) include (user_id, count) where count > 0;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index event_counts_event_idx;
    create index event_counts_event_idx on event_counts (workspace_id, event, day) include (user_id, count);
    alter table event_counts
      drop constraint event_counts_pkey,
      add constraint event_counts_pkey primary key (workspace_id, user_id, event, day);
  `);
}
