import knex, { type Knex } from 'knex';
import pg from 'pg';
import { logger } from '../lib/logger.js';

// int8 (count(*), bigint ids) as JS numbers: our counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// numeric as number too (percentages, averages).
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/**
 * `acquireTimeoutMs` bounds how long a query waits for a connection: while PostgreSQL is down the pool keeps
 * retrying to connect for that long, then the query fails with a connection error (ingest answers 503).
 */
export function createDb(connectionString: string, poolMax = 10, acquireTimeoutMs = 10_000): Knex {
  const log = logger.child({ component: 'knex' });
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: 'audience-gateway' },
    pool: { min: 0, max: poolMax, propagateCreateError: false },
    acquireConnectionTimeout: acquireTimeoutMs,
    // knex's own warnings (e.g. "Acquire connection error") go to the structured log, not to the console.
    log: {
      warn: (m: unknown) => log.warn(String(m).split('\n')[0]),
      error: (m: unknown) => log.error(String(m).split('\n')[0]),
      deprecate: (m: unknown) => log.warn(String(m)),
      debug: (m: unknown) => log.debug(String(m)),
    },
  });
}

/** Errors that mean "the database is not reachable right now" rather than "this query is wrong". */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string } | undefined;
  if (!e) return false;
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300'];
  if (e.code && codes.includes(e.code)) return true;
  if (e.name === 'KnexTimeoutError') return true;
  const msg = e.message ?? '';
  return /Connection terminated|connect ECONNREFUSED|terminating connection|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(msg);
}

/** PostgreSQL "data exception" (SQLSTATE class 22): a value the caller sent cannot be stored or compared. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
