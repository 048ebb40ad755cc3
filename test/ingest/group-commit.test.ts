import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { normalizeMessage, type IngestMessage } from '../../src/ingest/normalize.js';
import { GroupCommitWriter } from '../../src/ingest/writer.js';
import { aTrack } from './messages.js';

/**
 * When commits run side by side. PostgreSQL holds each commit at the events insert (another transaction locks the
 * table), so what the writer started is visible as statements waiting on that lock.
 */
const gw = useGateway();
let ws: { id: string };

const tracks = (prefix: string, n: number): IngestMessage[] => Array.from({ length: n }, (_, i) => {
  const m = normalizeMessage(aTrack({ userId: `${prefix}-${i % 7}`, messageId: `${prefix}-${i}` }), ws.id, new Date());
  if (!m.ok) throw new Error(m.rejection.message);
  return m.message;
});

async function waitingCommits(): Promise<number> {
  const { rows } = await gw.database.db.raw(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'`,
  );
  return rows[0].n;
}

async function until(check: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

beforeAll(async () => {
  ws = await gw.createWorkspace('Group commit');
});

describe('the group-commit writer', () => {
  it('runs one commit at a time until a backlog builds, then a second beside it; every message lands', async () => {
    const writer = new GroupCommitWriter(gw.database.db, { concurrency: 2 }) // the default threshold: 64 waiting messages;
    const blocker = await gw.database.db.transaction();
    try {
      await blocker.raw('lock table events in share mode');
      const first = writer.write(tracks('a', 10));
      await until(async () => (await waitingCommits()) === 1);
      const small = writer.write(tracks('b', 10));
      await new Promise((r) => setTimeout(r, 300));
      expect(await waitingCommits()).toBe(1); // 10 waiting messages wait for the running commit
      const big = writer.write(tracks('c', 250));
      await until(async () => (await waitingCommits()) === 2); // 260 waiting (over 64): a second commit takes them
      await blocker.commit();
      const outcomes = (await Promise.all([first, small, big])).flat();
      expect(outcomes).toHaveLength(270);
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }
    const { rows } = await gw.database.db.raw(`select count(*)::int as n from events where workspace_id = ?`, [ws.id]);
    expect(rows[0].n).toBe(270);
  });
});
