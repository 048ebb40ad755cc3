import { z } from 'zod';

const Env = z.object({
  DATABASE_URL: z.string().optional(),
  PORT: z.coerce.number().int().min(0).default(3000),
  HOST: z.string().default('0.0.0.0'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  DATA_DIR: z.string().default('.data'),
  ADMIN_TOKEN: z.string().min(16).optional(),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  SECRET_KEY: z.string().optional(),
  PUBLIC_URL: z.string().url().optional(),
  SEGMENT_API_HOST: z.string().url().default('https://api.segment.io'),
  /** The log level (default: info, silent under NODE_ENV=test); set on the shared logger when the gateway starts. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** A request must be fully received within this time (slow bodies, slow-loris); 408 and the connection is closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** The request headers must arrive within this time (at most HTTP_REQUEST_TIMEOUT_MS). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  DB_POOL_MAX: z.coerce.number().int().min(2).default(10),
  /** How long a query waits for a database connection before failing (ingest then answers 503). */
  DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Group commits written at once by an api process; requests arriving meanwhile wait and share the next one. */
  INGEST_COMMITS: z.coerce.number().int().min(1).default(2),
  /** Default per-workspace ingest rate (messages/second); 0 = unlimited. A workspace's own setting wins. */
  INGEST_RATE_LIMIT: z.coerce.number().min(0).default(0),
  /**
   * Segment jobs (cron ticks, scheduled full evaluations) run at once per worker process. Every job the outbox adds
   * wakes each idle slot, which asks PostgreSQL for a job of its tasks: at 2,000 events/s (1,200 membership jobs a
   * second) four idle slots cost a third of a core; scheduled evaluations are rare and each wants a core anyway.
   */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).default(1),
  /** A worker pool without a heartbeat for this long is dead: its locked jobs are freed for other workers (src/outbound/heartbeat.ts). */
  WORKER_DEAD_AFTER_MS: z.coerce.number().int().min(500).default(30_000),
  EVALUATOR_INTERVAL_MS: z.coerce.number().int().min(5).default(50),
  /** Dirty users per incremental evaluation batch: smaller batches answer sooner, larger ones cost less per user. */
  EVALUATOR_BATCH: z.coerce.number().int().min(1).default(250),
  /** Evaluation loops side by side in a worker process (each holds a database connection while it works). */
  EVALUATOR_LOOPS: z.coerce.number().int().min(1).default(2),
});

export type Config = z.infer<typeof Env>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
