// A worker process for the "killed mid-delivery" test: runs the outbound tasks until it is killed.
import { run, Logger } from 'graphile-worker';
import { createDb } from '../../src/db/knex.js';
import { loadConfig } from '../../src/config.js';
import { SecretBox } from '../../src/lib/crypto.js';
import { systemClock } from '../../src/lib/clock.js';
import { GroupCommitWriter } from '../../src/ingest/writer.js';
import { outboundTasks } from '../../src/outbound/tasks.js';
import { startHeartbeat } from '../../src/outbound/heartbeat.js';

const config = loadConfig();
const db = createDb(config.DATABASE_URL!, 2);
const ctx = { db, config, secrets: new SecretBox('test-secret-key'), adminToken: 'x'.repeat(16), writer: new GroupCommitWriter(db), clock: systemClock };
const heartbeat = startHeartbeat(db, { intervalMs: 200, staleAfterMs: 60_000, role: 'outbound' });
await run({
  connectionString: config.DATABASE_URL!, concurrency: 1, pollInterval: 100, noHandleSignals: true,
  taskList: outboundTasks(ctx).tasks, logger: new Logger(() => () => undefined), events: heartbeat.events,
});
process.stdout.write('ready\n');
