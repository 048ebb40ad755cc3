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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A request must be fully received within this time (slow bodies, slow-loris); 408 and the connection is closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** The request headers must arrive within this time (at most HTTP_REQUEST_TIMEOUT_MS). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  DB_POOL_MAX: z.coerce.number().int().min(2).default(10),
  /** How long a query waits for a database connection before failing (ingest then answers 503). */
  DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Default per-workspace ingest rate (messages/second); 0 = unlimited. A workspace's own setting wins. */
  INGEST_RATE_LIMIT: z.coerce.number().min(0).default(0),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  /** A worker pool without a heartbeat for this long is dead: its locked jobs are freed for other workers (src/outbound/heartbeat.ts). */
  WORKER_DEAD_AFTER_MS: z.coerce.number().int().min(500).default(30_000),
  EVALUATOR_INTERVAL_MS: z.coerce.number().int().min(5).default(50),
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
