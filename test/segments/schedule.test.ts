import { beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { scheduleDueSegments, runScheduledEvaluation } from '../../src/segments/schedule.js';
import { cronItems, workerTasks } from '../../src/worker-registry.js';
import { aUser, createSegment, memberIds } from './factories.js';

const gw = useGateway();
let ws: string;

beforeAll(async () => {
  gw.clock.set('2026-06-15T12:00:00Z');
  ws = (await gw.createWorkspace()).id;
  await aUser(gw.database.db, ws, 'old', { lastSeenAt: '2026-06-10T00:00:00Z' });
  await aUser(gw.database.db, ws, 'fresh', { lastSeenAt: '2026-06-15T06:00:00Z' });
});

describe('scheduled evaluation', () => {
  it('registers a minute tick and the evaluate task', () => {
    expect(cronItems().map((c) => [c.task, c.match])).toContainEqual(['segment.schedule-tick', '* * * * *']);
    expect(Object.keys(workerTasks(gw.ctx))).toEqual(expect.arrayContaining(['segment.schedule-tick', 'segment.evaluate']));
  });

  it('re-evaluates due segments in their time zone, quietly, with cause schedule', async () => {
    const id = await createSegment(gw, ws, { type: 'dynamic', definition: { attribute: 'lastSeenAt', op: 'within_last', days: 1 }, schedule: { cron: '0 2 * * *', timezone: 'Europe/Paris' } }, true);
    const paused = await createSegment(gw, ws, { type: 'dynamic', definition: { attribute: 'lastSeenAt', op: 'exists' }, schedule: { cron: '* * * * *' } }, true);
    await gw.api.patch(`/api/workspaces/${ws}/segments/${paused}`).send({ status: 'paused' }).expect(200);
    expect(await memberIds(gw.database.db, ws, id)).toEqual(['fresh']);

    gw.clock.set('2026-06-15T23:59:00Z'); // 01:59 in Paris: not yet
    expect(await scheduleDueSegments(gw.database.db, gw.clock.now())).toEqual([]);
    gw.clock.set('2026-06-17T00:00:30Z'); // 02:00:30 in Paris (UTC+2), two days on
    expect(await scheduleDueSegments(gw.database.db, gw.clock.now())).toEqual([id]);
    expect(await scheduleDueSegments(gw.database.db, gw.clock.now())).toEqual([]); // once per occurrence

    const job = await gw.database.db.raw(`select j.payload, j.key from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'segment.evaluate'`);
    expect(job.rows).toEqual([{ payload: { workspaceId: ws, segmentId: id }, key: `segment.evaluate:${id}` }]);

    await runScheduledEvaluation(gw.database.db, job.rows[0].payload, gw.clock.now());
    expect(await memberIds(gw.database.db, ws, id)).toEqual([]);
    const log = await gw.database.db('membership_log').where({ workspace_id: ws, segment_id: id, change: 'exited' });
    expect(log.map((l) => l.cause)).toEqual(['schedule']);
    const [history] = (await gw.api.get(`/api/workspaces/${ws}/segments/${id}/history`).expect(200)).body.history;
    expect(history).toMatchObject({ cause: 'schedule', size: 0, exited: 1 });
    const effects = await gw.database.db.raw(`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'segment.membership'`);
    expect(effects.rows[0].n).toBe(0);
  });
});
