import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { createDb } from '../../src/db/knex.js';
import { ADMIN, DedicatedPostgres, adminPost, loadGenerator, sendBatch, summarize, waitFor } from './support.js';

/**
 * PostgreSQL stops (fast shutdown: open transactions are cut) while ingest is under load, then comes back.
 * The contract: during the outage the gateway answers 503 (Segment retries), never a 2xx for a message that
 * was not committed, never a 500; afterwards every acknowledged messageId is stored exactly once.
 */
let pg: DedicatedPostgres;
let gateway: Gateway;
let dataDir: string;

beforeAll(async () => {
  pg = await DedicatedPostgres.start();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-fault-data-'));
  gateway = await startGateway(loadConfig({
    DATABASE_URL: pg.url(), ROLE: 'all', WORKER_DEAD_AFTER_MS: '2000', PORT: '0', HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN,
    SECRET_KEY: 'fault-secret', DATA_DIR: dataDir, DB_POOL_MAX: '6', DB_ACQUIRE_TIMEOUT_MS: '1500',
  }));
}, 120_000);

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  await pg?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('PostgreSQL restarted under ingest load', () => {
  it('answers 503 during the outage and stores every acknowledged message exactly once', async () => {
    const ws = await adminPost(gateway.url, '/api/workspaces', { name: 'Restart' }) as { id: string; ingestKey: string };
    const load = loadGenerator(() => [gateway.url], ws.ingestKey, { clients: 6, batch: 10 });

    await waitFor('traffic before the outage', async () => summarize(load.sent).acked.length >= 200);
    await pg.stop();
    const outageStart = load.sent.length;
    await waitFor('503s during the outage', async () => load.sent.slice(outageStart).filter((s) => s.status === 503).length >= 6);
    await pg.restart();
    const restartedAt = load.sent.length;
    await waitFor('traffic after the restart', async () => load.sent.slice(restartedAt).filter((s) => s.status === 200).length >= 20, 30_000);
    const sent = await load.stop();

    const statuses = new Set(sent.map((s) => s.status));
    const unexpected = sent.filter((s) => s.status !== 200 && s.status !== 503);
    expect(unexpected.map((s) => `${s.status} ${s.error}`)).toEqual([]);
    expect(statuses.has(503)).toBe(true);

    const db = createDb(pg.url(), 2);
    try {
      const stored = async () => {
        const rows = await db('events').where({ workspace_id: ws.id }).select('message_id') as { message_id: string }[];
        return rows.map((r) => r.message_id);
      };
      const before = summarize(sent);
      const storedIds = await stored();
      const storedSet = new Set(storedIds);
      expect(storedIds.length).toBe(storedSet.size);
      expect(before.acked.filter((id) => !storedSet.has(id))).toEqual([]);

      // Segment retries what got a 5xx: afterwards every message sent is stored, each once.
      const retried = sent.filter((s) => s.status !== 200);
      for (const s of retried) expect((await sendBatch(gateway.url, ws.ingestKey, s.ids)).status).toBe(200);
      const allIds = sent.flatMap((s) => s.ids);
      const finalIds = await stored();
      expect(finalIds.length).toBe(allIds.length);
      expect(new Set(finalIds)).toEqual(new Set(allIds));
      // Counters were applied once per stored event (no half-applied or doubled profile writes).
      const [{ n }] = await db('event_counts').where({ workspace_id: ws.id }).sum({ n: 'count' });
      expect(Number(n)).toBe(allIds.length);

      const figures = {
        sent: allIds.length, acked: before.acked.length, byStatus: before.byStatus,
        storedBeforeRetry: storedIds.length, storedAfterRetry: finalIds.length, requests: sent.length,
      };
      console.info(`[figures] pg-restart ${JSON.stringify(figures)}`);
    } finally {
      await db.destroy();
    }
  }, 90_000);
});
