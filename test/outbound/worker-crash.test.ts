import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { makeWorkerUtils } from 'graphile-worker';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { receiver, type Receiver } from './receiver.js';
import { aResponse, aSurvey, pendingJobs, runJobs, silentLogger } from './factories.js';

const gw = useGateway();
let segment: Receiver;

beforeAll(async () => {
  segment = await receiver();
  gw.ctx.config.SEGMENT_API_HOST = segment.url;
});
afterAll(async () => { await segment.close(); });

describe('a worker killed mid-delivery', () => {
  it('leaves the job locked; once unlocked another worker delivers it, and the receiver de-dupes by messageId', async () => {
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

    // graphile-worker frees a dead worker's jobs after its lock timeout (4 h); forceUnlockWorkers is that moment.
    const utils = await makeWorkerUtils({ connectionString: gw.database.url, logger: silentLogger });
    try { await utils.forceUnlockWorkers([job.locked_by!]); } finally { await utils.release(); }
    await runJobs(gw);

    expect(segment.requests).toHaveLength(2);
    const seen = new Set<string>();
    const accepted = segment.requests.flatMap((q) => q.json.batch).filter((m: any) => !seen.has(m.messageId) && seen.add(m.messageId));
    expect(accepted.map((m: any) => m.type)).toEqual(['identify', 'track']); // what the receiver keeps after de-duplication
    expect(segment.requests[1].json.batch.map((m: any) => m.messageId)).toEqual(segment.requests[0].json.batch.map((m: any) => m.messageId));
    expect(await gw.database.db('deliveries').where({ workspace_id: ws.id }).first()).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await pendingJobs(gw.database.db, ws.id)).toEqual([]);
  });
});
