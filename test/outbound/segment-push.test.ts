import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { addJob } from '../../src/outbound/queue.js';
import { receiver, type Receiver } from './receiver.js';
import { aResponse, aSurvey, aUser, anAccountMember, anInteraction, makeJobsDue, pendingJobs, runJobs } from './factories.js';

const gw = useGateway();
let segment: Receiver;
const WRITE_KEY = 'wk_live_0123456789abcdef';

beforeAll(async () => {
  segment = await receiver();
  gw.ctx.config.SEGMENT_API_HOST = segment.url;
});
afterAll(async () => { await segment.close(); });
beforeEach(() => { segment.requests.length = 0; segment.replies.length = 0; });

async function setup(settings: Record<string, unknown> = {}) {
  const ws = await gw.createWorkspace();
  const survey = await aSurvey(gw.database.db, ws.id);
  await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ writeKey: WRITE_KEY, enabled: true, ...settings }).expect(200);
  return { ws, survey };
}

const delivery = (workspaceId: string, responseId: string) =>
  gw.database.db('deliveries').where({ workspace_id: workspaceId, message_key: `response:${responseId}` }).first();

const calls = () => segment.requests.flatMap((r) => r.json.batch as any[]);

describe('Segment push integration settings', () => {
  it('stores the write key encrypted and shows only a hint', async () => {
    const { ws } = await setup({ traitPrefix: 'nps_' });
    const res = await gw.api.get(`/api/workspaces/${ws.id}/integrations/segment`).expect(200);
    expect(res.body).toMatchObject({ enabled: true, writeKeyHint: 'wk_l…cdef', surveyIds: null, traitPrefix: 'nps_', trackSeen: false, trackDismissed: false });
    expect(res.body.events).toEqual({ completed: 'Survey Completed', seen: 'Survey Seen', dismissed: 'Survey Dismissed' });
    expect(JSON.stringify(res.body)).not.toContain(WRITE_KEY);
    const row = await gw.database.db('segment_integrations').where({ workspace_id: ws.id }).first();
    expect(row.write_key_enc).not.toContain(WRITE_KEY);
    expect(gw.ctx.secrets.decrypt(row.write_key_enc)).toBe(WRITE_KEY);
    // An update without writeKey keeps the key.
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ enabled: false }).expect(200);
    const after = await gw.database.db('segment_integrations').where({ workspace_id: ws.id }).first();
    expect(gw.ctx.secrets.decrypt(after.write_key_enc)).toBe(WRITE_KEY);
    expect(after.enabled).toBe(false);
  });

  it('rejects a first setup without a write key and unknown survey ids', async () => {
    const ws = await gw.createWorkspace();
    const res = await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ enabled: true }).expect(400);
    expect(res.body.error.code).toBe('invalid');
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`)
      .send({ writeKey: WRITE_KEY, enabled: true, surveyIds: ['00000000-0000-4000-8000-000000000000'] }).expect(400);
  });

  it('test action sends one identify and reports the answer', async () => {
    const { ws } = await setup();
    segment.replies.push({ status: 401, body: '{"success":false,"message":"bad key"}' });
    const bad = await gw.api.post(`/api/workspaces/${ws.id}/integrations/segment/test`).send({}).expect(200);
    expect(bad.body).toMatchObject({ ok: false, status: 401 });
    expect(bad.body.message).toContain('bad key');
    const good = await gw.api.post(`/api/workspaces/${ws.id}/integrations/segment/test`).send({ userId: 'u-test' }).expect(200);
    expect(good.body).toEqual({ ok: true, status: 200, message: 'Accepted' });
    expect(segment.requests).toHaveLength(2);
    expect(segment.requests[1].json.batch).toHaveLength(1);
    expect(segment.requests[1].json.batch[0]).toMatchObject({ type: 'identify', userId: 'u-test' });
  });
});

describe('pushing a completed response', () => {
  it('sends identify, group and track with the write key, the response timestamp and stable messageIds', async () => {
    const { ws, survey } = await setup();
    await aUser(gw.database.db, ws.id, 'ada');
    await anAccountMember(gw.database.db, ws.id, 'ada', 'acme-inc');
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9, why: 'fast' }, new Date('2026-11-20T10:00:00.000Z'));
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);

    expect(segment.requests).toHaveLength(1); // one batched request for the three calls
    const req = segment.requests[0];
    expect(req.path).toBe('/v1/batch');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`);
    const [identify, group, track] = req.json.batch;
    expect(identify).toMatchObject({
      type: 'identify', userId: 'ada', messageId: `resp-${r.id}-identify`, timestamp: '2026-11-20T10:00:00.000Z',
      traits: { survey_nps: 9, survey_why: 'fast', survey_last_survey: 'NPS', survey_last_survey_at: '2026-11-20T10:00:00.000Z' },
    });
    expect(Object.keys(identify.traits).sort()).toEqual(['survey_last_survey', 'survey_last_survey_at', 'survey_nps', 'survey_why']);
    expect(group).toMatchObject({
      type: 'group', userId: 'ada', groupId: 'acme-inc', timestamp: '2026-11-20T10:00:00.000Z',
      traits: { survey_last_survey: 'NPS', survey_last_survey_at: '2026-11-20T10:00:00.000Z' },
    });
    expect(group.messageId).toMatch(new RegExp(`^resp-${r.id}-group-[0-9a-f]{16}$`));
    expect(track).toMatchObject({
      type: 'track', userId: 'ada', event: 'Survey Completed', messageId: `resp-${r.id}-track`, timestamp: '2026-11-20T10:00:00.000Z',
      properties: { survey_id: survey.id, survey_name: 'NPS', response_id: r.id, answers: { nps: 9, why: 'fast' }, nps: 9, why: 'fast' },
    });
    expect(await delivery(ws.id, r.id)).toMatchObject({ destination: 'segment', status: 'delivered', attempts: 1, last_status_code: 200 });
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]);
  });

  it('applies the trait prefix and event-name overrides, and no group without an account', async () => {
    const { ws, survey } = await setup({ traitPrefix: 'fb_', events: { completed: 'NPS Answered' } });
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'bob', { nps: 3 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);
    expect(calls().map((c) => c.type)).toEqual(['identify', 'track']);
    expect(calls()[0].traits).toEqual({ fb_nps: 3, fb_last_survey: 'NPS', fb_last_survey_at: '2026-11-20T10:00:00.000Z' });
    expect(calls()[1].event).toBe('NPS Answered');
  });

  it('pushes only selected surveys, and nothing when disabled', async () => {
    const { ws, survey } = await setup();
    const other = await aSurvey(gw.database.db, ws.id, 'Onboarding');
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ enabled: true, surveyIds: [other.id] }).expect(200);
    const skipped = await aResponse(gw.database.db, ws.id, survey.id, 'u1', { nps: 10 });
    const pushed = await aResponse(gw.database.db, ws.id, other.id, 'u2', { nps: 7 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: skipped.id });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: pushed.id });
    await runJobs(gw);
    expect(calls().map((c) => c.userId)).toEqual(['u2', 'u2']);
    expect(await delivery(ws.id, skipped.id)).toBeUndefined();

    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ enabled: false }).expect(200);
    const off = await aResponse(gw.database.db, ws.id, other.id, 'u3', { nps: 7 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: off.id });
    await runJobs(gw);
    expect(calls().map((c) => c.userId)).toEqual(['u2', 'u2']);
  });

  it('tracks seen and dismissed interactions when enabled, with their own names', async () => {
    const { ws, survey } = await setup({ trackSeen: true, events: { seen: 'NPS Shown' } });
    const seen = await anInteraction(gw.database.db, ws.id, survey.id, 'ada', 'seen', new Date('2026-11-20T09:00:00.000Z'));
    const dismissed = await anInteraction(gw.database.db, ws.id, survey.id, 'ada', 'dismissed');
    await addJob(gw.database.db, 'segment.push-interaction', { workspaceId: ws.id, interactionId: seen.id });
    await addJob(gw.database.db, 'segment.push-interaction', { workspaceId: ws.id, interactionId: dismissed.id });
    await runJobs(gw);
    expect(calls()).toHaveLength(1);
    expect(calls()[0]).toMatchObject({
      type: 'track', event: 'NPS Shown', userId: 'ada', messageId: `int-${seen.id}-track`, timestamp: '2026-11-20T09:00:00.000Z',
      properties: { survey_id: survey.id, survey_name: 'NPS', interaction_id: seen.id },
    });
  });
});

describe('failures and retries', () => {
  it('Segment 500 then 200: delivered once more with the same messageIds', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push({ status: 500, body: 'oops' });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);
    const failed = await delivery(ws.id, r.id);
    expect(failed).toMatchObject({ status: 'retrying', attempts: 1, last_status_code: 500 });
    expect(failed.last_error).toContain('500');
    const [retry] = await pendingJobs(gw.database.db, ws.id);
    expect(retry).toMatchObject({ task: 'segment.push-response', key: `segment:response:${r.id}`, payload: { workspaceId: ws.id, responseId: r.id } });
    // backoff with jitter: the first retry waits between 2.5 and 5 seconds
    const wait = new Date(retry.run_at).getTime() - new Date(failed.last_attempt_at).getTime();
    expect(wait).toBeGreaterThanOrEqual(2500);
    expect(wait).toBeLessThanOrEqual(5000);

    await runJobs(gw); // not due yet: nothing happens
    expect(segment.requests).toHaveLength(1);
    await makeJobsDue(gw.database.db);
    await runJobs(gw);
    expect(segment.requests).toHaveLength(2);
    const ids = segment.requests.map((q) => q.json.batch.map((c: any) => c.messageId));
    expect(ids[1]).toEqual(ids[0]);
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200 });
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]);
  });

  it('429 with Retry-After: the retry waits as long as Segment asked', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push({ status: 429, headers: { 'retry-after': '120' } });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);
    const d = await delivery(ws.id, r.id);
    expect(d).toMatchObject({ status: 'retrying', last_status_code: 429 });
    expect(segment.requests).toHaveLength(1); // the library did not retry on its own
    const [retry] = await pendingJobs(gw.database.db, ws.id);
    const wait = new Date(retry.run_at).getTime() - new Date(d.last_attempt_at).getTime();
    expect(wait).toBeGreaterThanOrEqual(120_000);
    expect(wait).toBeLessThanOrEqual(121_000);
    await makeJobsDue(gw.database.db);
    await runJobs(gw);
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('400 is dead at once, visible with its error, and can be replayed', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push({ status: 400, body: '{"success":false,"message":"invalid batch"}' });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]); // not retried
    const list = await gw.api.get(`/api/workspaces/${ws.id}/deliveries?destination=segment&status=dead`).expect(200);
    expect(list.body.deliveries).toHaveLength(1);
    const dead = list.body.deliveries[0];
    expect(dead).toMatchObject({ destination: 'segment', messageKey: `response:${r.id}`, status: 'dead', attempts: 1, lastStatusCode: 400, nextAttemptAt: null });
    expect(dead.lastError).toContain('invalid batch');
    expect((await gw.api.get(`/api/workspaces/${ws.id}/deliveries?status=delivered`).expect(200)).body.deliveries).toEqual([]);

    const replay = await gw.api.post(`/api/workspaces/${ws.id}/deliveries/${dead.id}/replay`).expect(202);
    expect(replay.body).toMatchObject({ status: 'pending', attempts: 0 });
    await runJobs(gw);
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
    expect(segment.requests[1].json.batch.map((c: any) => c.messageId)).toEqual(segment.requests[0].json.batch.map((c: any) => c.messageId));
  });

  it('a timeout is retried', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push('hang');
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw, { timeoutMs: 300 });
    const d = await delivery(ws.id, r.id);
    expect(d).toMatchObject({ status: 'retrying', last_status_code: null });
    expect(d.last_error).toContain('did not answer in time');
    await makeJobsDue(gw.database.db);
    await runJobs(gw);
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('retries run out: dead after the last attempt', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push({ status: 503 }, { status: 503 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    const retry = { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000 };
    await runJobs(gw, { retry });
    await makeJobsDue(gw.database.db);
    await runJobs(gw, { retry });
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'dead', attempts: 2, last_status_code: 503 });
    await expect.poll(() => pendingJobs(gw.database.db, ws.id), { timeout: 5000 }).toEqual([]);
  });
});

describe('replay of a period', () => {
  it('re-enqueues stored responses of the period with the same messageIds', async () => {
    const { ws, survey } = await setup();
    const other = await aSurvey(gw.database.db, ws.id, 'Other');
    const inside = await aResponse(gw.database.db, ws.id, survey.id, 'a', { nps: 1 }, new Date('2026-11-01T00:00:00Z'));
    await aResponse(gw.database.db, ws.id, other.id, 'b', { nps: 2 }, new Date('2026-11-02T00:00:00Z'));
    await aResponse(gw.database.db, ws.id, survey.id, 'c', { nps: 3 }, new Date('2026-12-01T00:00:00Z'));
    const res = await gw.api.post(`/api/workspaces/${ws.id}/integrations/segment/replay`)
      .send({ from: '2026-11-01T00:00:00Z', to: '2026-11-30T00:00:00Z', surveyIds: [survey.id] }).expect(202);
    expect(res.body).toEqual({ enqueued: 1 });
    await runJobs(gw);
    expect(calls().map((c) => c.messageId)).toEqual([`resp-${inside.id}-identify`, `resp-${inside.id}-track`]);
    await gw.api.post(`/api/workspaces/${ws.id}/integrations/segment/replay`).send({ from: '2026-12-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }).expect(400);
  });
});

describe('the delivery log', () => {
  it('pages newest first with a cursor', async () => {
    const { ws, survey } = await setup();
    for (const u of ['a', 'b', 'c']) {
      const r = await aResponse(gw.database.db, ws.id, survey.id, u, { nps: 5 });
      await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
      await runJobs(gw);
    }
    const first = await gw.api.get(`/api/workspaces/${ws.id}/deliveries?limit=2`).expect(200);
    expect(first.body.deliveries).toHaveLength(2);
    const second = await gw.api.get(`/api/workspaces/${ws.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body).toMatchObject({ nextCursor: null });
    const all = [...first.body.deliveries, ...second.body.deliveries];
    expect(new Set(all.map((d: any) => d.id)).size).toBe(3);
    expect(all.map((d: any) => d.createdAt)).toEqual([...all.map((d: any) => d.createdAt)].sort().reverse());
    await gw.api.get(`/api/workspaces/${ws.id}/deliveries?cursor=nonsense`).expect(400);
    await gw.api.get(`/api/workspaces/${ws.id}/deliveries?status=lost`).expect(400);
  });

  it('a write key that cannot be decrypted fails only its own workspace', async () => {
    const broken = await setup();
    const fine = await setup();
    await gw.database.db('segment_integrations').where({ workspace_id: broken.ws.id }).update({ write_key_enc: 'v1.AAAA.AAAA.AAAA' });
    const r1 = await aResponse(gw.database.db, broken.ws.id, broken.survey.id, 'x', { nps: 1 });
    const r2 = await aResponse(gw.database.db, fine.ws.id, fine.survey.id, 'y', { nps: 2 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: broken.ws.id, responseId: r1.id });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: fine.ws.id, responseId: r2.id });
    await runJobs(gw);
    expect(await delivery(broken.ws.id, r1.id)).toMatchObject({ status: 'retrying', last_status_code: null });
    expect(await delivery(fine.ws.id, r2.id)).toMatchObject({ status: 'delivered' });
  });
});

describe('switched off while retrying', () => {
  it('a retrying delivery whose integration was disabled is closed as dead, not left retrying', async () => {
    const { ws, survey } = await setup();
    const r = await aResponse(gw.database.db, ws.id, survey.id, 'ada', { nps: 9 });
    segment.replies.push({ status: 502 });
    await addJob(gw.database.db, 'segment.push-response', { workspaceId: ws.id, responseId: r.id });
    await runJobs(gw);
    expect(await delivery(ws.id, r.id)).toMatchObject({ status: 'retrying' });
    await gw.api.put(`/api/workspaces/${ws.id}/integrations/segment`).send({ enabled: false }).expect(200);
    await makeJobsDue(gw.database.db);
    await runJobs(gw);
    const d = await delivery(ws.id, r.id);
    expect(d).toMatchObject({ status: 'dead', attempts: 1 });
    expect(d.last_error).toContain('disabled');
    expect(segment.requests).toHaveLength(1);
  });
});
