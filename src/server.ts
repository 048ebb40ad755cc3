import http from 'node:http';
import path from 'node:path';
import type { Config } from './config.js';
import { createDb } from './db/knex.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './db/embedded.js';
import { ensureDatabase } from './db/database.js';
import { createApp } from './http/app.js';
import type { AppContext } from './http/context.js';
import { GroupCommitWriter } from './ingest/writer.js';
import { SecretBox } from './lib/crypto.js';
import { systemClock } from './lib/clock.js';
import { persistentSecret } from './bootstrap.js';
import { startWorker, type WorkerHandle } from './worker.js';
import { logger } from './lib/logger.js';

export interface Gateway {
  ctx: AppContext;
  url: string;
  databaseUrl: string;
  adminTokenCreated: boolean;
  stop(): Promise<void>;
}

/** Starts the roles this process was given (api, worker or both) and returns a handle that stops them in order. */
export async function startGateway(config: Config): Promise<Gateway> {
  // The logger is created at import with LOG_LEVEL from the environment; a config built otherwise (benchmarks) sets it here.
  if (config.LOG_LEVEL) logger.level = config.LOG_LEVEL;
  let embedded: EmbeddedServer | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(path.join(config.DATA_DIR, 'pg'), { quiet: true });
    const u = new URL(embedded.url);
    u.pathname = '/audience_gateway';
    databaseUrl = u.toString();
  }
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, config.DB_POOL_MAX, config.DB_ACQUIRE_TIMEOUT_MS);
  await migrate(db, databaseUrl);

  const secretKey = persistentSecret(config, config.SECRET_KEY, 'secret-key');
  const adminToken = persistentSecret(config, config.ADMIN_TOKEN, 'admin-token');
  const ctx: AppContext = {
    db,
    config,
    secrets: new SecretBox(secretKey.value),
    adminToken: adminToken.value,
    writer: new GroupCommitWriter(db, { concurrency: config.INGEST_COMMITS }),
    clock: systemClock,
  };

  let server: http.Server | undefined;
  let url = '';
  if (config.ROLE !== 'worker') {
    const app = createApp(ctx);
    server = http.createServer({
      // Slow headers and slow bodies (slow-loris) are cut off with a 408; timeouts are checked every second.
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: 1000,
    }, app);
    server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
    await new Promise<void>((resolve) => server!.listen(config.PORT, config.HOST, resolve));
    const { port } = server.address() as { port: number };
    url = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}`;
  }
  let worker: WorkerHandle | undefined;
  if (config.ROLE !== 'api') worker = await startWorker(ctx, databaseUrl);

  return {
    ctx,
    url,
    databaseUrl,
    adminTokenCreated: adminToken.created,
    async stop() {
      // Stop accepting, let in-flight requests and their group commits finish, then release jobs and close.
      if (server) {
        const s = server;
        // Requests still arriving on kept-alive connections are answered with "Connection: close", and
        // connections are closed as soon as they fall idle, so keep-alive clients cannot hold the close open.
        s.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('Connection', 'close'));
        const closed = new Promise<void>((r) => s.close(() => r()));
        s.closeIdleConnections();
        const sweep = setInterval(() => s.closeIdleConnections(), 50);
        await Promise.race([closed, new Promise((r) => setTimeout(r, 8000))]);
        clearInterval(sweep);
        s.closeAllConnections();
      }
      await ctx.writer.drain();
      await worker?.stop();
      await db.destroy();
      await embedded?.stop();
      logger.info('stopped');
    },
  };
}
