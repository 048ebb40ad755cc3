import type { Db } from '../db/types.js';

export interface JobOptions {
  /** Replaces a pending job with the same key instead of adding a second one. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  queueName?: string;
  priority?: number;
}

/**
 * Adds a job to the outbox (graphile-worker) inside the caller's transaction, so the job exists
 * if and only if the fact that caused it was committed.
 */
export async function addJob(db: Db, task: string, payload: unknown, opts: JobOptions = {}): Promise<void> {
  await db.raw(
    `select graphile_worker.add_job(?, ?::json, queue_name => ?, run_at => ?, max_attempts => ?, job_key => ?, priority => ?)`,
    [task, JSON.stringify(payload ?? {}), opts.queueName ?? null, opts.runAt?.toISOString() ?? null, opts.maxAttempts ?? 25, opts.jobKey ?? null, opts.priority ?? 0],
  );
}

/** Adds many jobs of one task in one statement (graphile_worker.add_jobs), for set-based producers. */
export async function addJobs(db: Db, task: string, payloads: unknown[], opts: Omit<JobOptions, 'jobKey'> = {}): Promise<void> {
  if (!payloads.length) return;
  await db.raw(
    `select graphile_worker.add_jobs(array(
       select json_populate_record(null::graphile_worker.job_spec,
         json_build_object('identifier', ?::text, 'payload', p, 'max_attempts', ?::int, 'queue_name', ?::text, 'run_at', ?::timestamptz, 'priority', ?::int))
       from json_array_elements(?::json) p))`,
    [task, opts.maxAttempts ?? 25, opts.queueName ?? null, opts.runAt?.toISOString() ?? null, opts.priority ?? 0, JSON.stringify(payloads)],
  );
}
