import type { Knex } from 'knex';
import { registerGauge, type LabelledValue } from './metrics.js';

/** The database the gauges read (the latest app's: tests build several apps in one process). */
let source: Knex | undefined;
let registered = false;

async function rows<T>(sql: string): Promise<T[]> {
  if (!source) return [];
  return (await source.raw(sql)).rows as T[];
}

/**
 * Queue gauges read from PostgreSQL at scrape time, so every api process reports the cluster's state:
 * the dirty-user queue of the incremental evaluator and the outbox (graphile-worker jobs) by task.
 */
export function watchQueues(db: Knex) {
  source = db;
  if (registered) return;
  registered = true;
  registerGauge('ag_dirty_users', 'Users waiting for incremental evaluation', async () => {
    const [r] = await rows<{ n: number }>('select count(*)::int as n from dirty_users');
    return r?.n ?? 0;
  });
  registerGauge('ag_dirty_oldest_seconds', 'Age of the oldest dirty user (evaluation lag)', async () => {
    const [r] = await rows<{ s: number | null }>('select extract(epoch from clock_timestamp() - min(marked_at))::float8 as s from dirty_users');
    return r?.s ?? 0;
  });
  // state: queued (waiting or retrying), running (locked by a worker), dead (attempts exhausted: dead letters).
  registerGauge('ag_outbox_jobs', 'Outbox jobs by destination task and state', async (): Promise<LabelledValue[]> => {
    const list = await rows<{ task: string; state: string; n: number }>(
      `select task_identifier as task,
              case when attempts >= max_attempts then 'dead' when locked_at is not null then 'running' else 'queued' end as state,
              count(*)::int as n
         from graphile_worker.jobs group by 1, 2`,
    );
    return list.map((r) => ({ labels: { task: r.task, state: r.state }, value: r.n }));
  }, ['task', 'state']);
  registerGauge('ag_outbox_failing_jobs', 'Outbox jobs whose last attempt failed (retrying or dead), by destination task', async (): Promise<LabelledValue[]> => {
    const list = await rows<{ task: string; n: number }>(
      `select task_identifier as task, count(*)::int as n from graphile_worker.jobs where last_error is not null group by 1`,
    );
    return list.map((r) => ({ labels: { task: r.task }, value: r.n }));
  }, ['task']);
}
