import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { backgroundLoops } from '../../src/worker-registry.js';
import { outboundRunner } from '../../src/outbound/runner.js';
import { receiver, type Receiver } from './receiver.js';
import { aResponse, aSurvey } from './factories.js';

const gw = useGateway();
let segment: Receiver;

beforeAll(async () => {
  segment = await receiver();
  gw.ctx.config.SEGMENT_API_HOST = segment.url;
});
afterAll(async () => { await segment.close(); });

describe('the worker role', () => {
  it('runs the outbound tasks on their own runner: a queued response reaches Segment', async () => {
    const ws = await gw.createWorkspace();
    const survey = await aSurvey(gw.database.db, ws.id);
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ writeKey: 'wk_runner_0123456789', enabled: true }).expect(200);
    expect(backgroundLoops).toContain(outboundRunner); // started with the worker role
    const loops = [outboundRunner(gw.ctx)];
    try {
      const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 10 });
      await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
      await segment.waitFor(1);
      for (;;) {
        const d = await gw.database.db('deliveries').where({ workspace_id: ws.id }).first();
        if (d?.status === 'delivered') break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(segment.requests[0].json.batch.map((c: any) => c.messageId)).toEqual([`resp-${r.id}-identify`, `resp-${r.id}-track`]);
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
  });
});
