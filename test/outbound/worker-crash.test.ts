import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { receiver, type Receiver } from './receiver.js';
import { outboundRunner } from '../../src/outbound/runner.js';
import { aResponse, aSurvey, pendingJobs } from './factories.js';

const gw = useGateway();
let segment: Receiver;

beforeAll(async () => {
  segment = await receiver();
  gw.ctx.config.SEGMENT_API_HOST = segment.url;
});
afterAll(async () => { await segment.close(); });

describe('a worker killed mid-delivery', () => {
  it('leaves its job locked until a new worker finds its heartbeat stale, unlocks and delivers it; the receiver de-dupes by messageId', async () => {
    const ws = await gw.createWorkspace();
    const survey = await aSurvey(gw.database.db, ws.id);
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ writeKey: 'wk_crash_0123456789', enabled: true }).expect(200);
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 8 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });

    // Segment receives the batch but the worker dies before the answer arrives.
    segment.replies.push('hang');
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/outbound/worker-child.ts')], {
      env: { ...process.env, DATABASE_URL: gw.database.url, SEGMENT_API_HOST: segment.url, LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await segment.waitFor(1);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const [job] = await pendingJobs(gw.database.db, ws.id);
    expect(job.locked_by).toBeTruthy(); // still locked by the dead worker: no other worker takes it yet
    expect(await gw.database.db('deliveries').where({ workspace_id: ws.id })).toEqual([]);

    const [beat] = await gw.database.db('worker_heartbeats').where({ worker_id: job.locked_by });
    expect(beat).toMatchObject({ role: 'outbound' }); // the dead worker had registered its pool id

    // A new worker (stale threshold shortened from 30 s so the test takes seconds) sweeps on start and on each tick:
    // the dead pool's jobs are unlocked without anyone calling forceUnlockWorkers, and the new worker runs them.
    const worker = outboundRunner(gw.ctx, { heartbeat: { intervalMs: 100, staleAfterMs: 1_000 } });
    try {
      for (;;) {
        const d = await gw.database.db('deliveries').where({ workspace_id: ws.id }).first();
        if (d?.status === 'delivered' && !(await pendingJobs(gw.database.db, ws.id)).length) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(await gw.database.db('worker_heartbeats').where({ worker_id: job.locked_by })).toEqual([]); // dead row removed
      expect(await gw.database.db('worker_heartbeats').where({ role: 'outbound' })).toHaveLength(1); // the live worker's
    } finally {
      await worker.stop();
    }
    expect(await gw.database.db('worker_heartbeats')).toEqual([]); // a graceful stop removes its own row

    expect(segment.requests).toHaveLength(2);
    const seen = new Set<string>();
    const accepted = segment.requests.flatMap((q) => q.json.batch).filter((m: any) => !seen.has(m.messageId) && seen.add(m.messageId));
    expect(accepted.map((m: any) => m.type)).toEqual(['identify', 'track']); // what the receiver keeps after de-duplication
    expect(segment.requests[1].json.batch.map((m: any) => m.messageId)).toEqual(segment.requests[0].json.batch.map((m: any) => m.messageId));
    expect(await gw.database.db('deliveries').where({ workspace_id: ws.id }).first()).toMatchObject({ status: 'delivered', attempts: 1 });
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]);
  });
});
