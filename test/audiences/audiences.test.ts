import { describe, expect, it, beforeAll } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { aSegment, someUsers, npsSurvey } from '../surveys/factories.js';
import { cacheGeneration, cachedAudience, forgetAudiences, rememberAudience } from '../../src/audiences/cache.js';
import { checkUser } from '../../src/audiences/audiences.js';

const gw = useGateway();
let ws: { id: string; ingestKey: string };
const base = () => `/api/workspaces/${ws.id}`;
const seg: Record<string, string> = {};

// u1: A B     u2: A       u3: B C     u4: (none)    u5: A C    (u6 is unknown: no users row)
beforeAll(async () => {
  ws = await gw.createWorkspace('Audiences');
  const db = gw.database.db;
  await someUsers(db, ws.id, ['u1', 'u2', 'u3', 'u4', 'u5']);
  seg.A = await aSegment(db, ws.id, { name: 'A', members: ['u1', 'u2', 'u5'] });
  seg.B = await aSegment(db, ws.id, { name: 'B', members: ['u1', 'u3'] });
  seg.C = await aSegment(db, ws.id, { name: 'C', type: 'dynamic', members: ['u3', 'u5'] });
  seg.paused = await aSegment(db, ws.id, { name: 'Paused', status: 'paused', members: ['u4'] });
  seg.draft = await aSegment(db, ws.id, { name: 'Draft', status: 'draft', members: ['u1', 'u2', 'u3', 'u4', 'u5'] });
  seg.archived = await aSegment(db, ws.id, { name: 'Archived', status: 'archived', members: ['u1', 'u2', 'u3', 'u4', 'u5'] });
  seg.everyone = await aSegment(db, ws.id, { name: 'Everyone', type: 'everyone' });
});

async function audience(body: object) {
  const res = await gw.api.post(`${base()}/audiences`).send({ name: 'Aud', ...body }).expect(201);
  return res.body.id as string;
}
async function eligibleUsers(id: string) {
  const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
  const single: string[] = [];
  for (const u of users) if ((await gw.api.get(`${base()}/audiences/${id}/check/${u}`).expect(200)).body.eligible) single.push(u);
  const batch = await gw.api.post(`${base()}/audiences/${id}/check`).send({ userIds: users }).expect(200);
  const batched = batch.body.results.filter((r: { eligible: boolean }) => r.eligible).map((r: { userId: string }) => r.userId);
  expect(batched).toEqual(single); // the batch form agrees with the single form
  const members = (await gw.api.get(`${base()}/audiences/${id}/members`).expect(200)).body.members;
  expect(members).toEqual(single.filter((u) => u !== 'u6')); // members are known users
  const { size } = (await gw.api.get(`${base()}/audiences/${id}`).expect(200)).body;
  expect(size).toBe(members.length);
  return single;
}

describe('audience eligibility', () => {
  it.each([
    ['any of A, B', { include: ['A', 'B'], match: 'any' }, ['u1', 'u2', 'u3', 'u5']],
    ['all of A, B', { include: ['A', 'B'], match: 'all' }, ['u1']],
    ['any of A, B minus C', { include: ['A', 'B'], match: 'any', exclude: ['C'] }, ['u1', 'u2']],
    ['all of A, C', { include: ['A', 'C'], match: 'all' }, ['u5']],
    ['no include, exclude A', { include: [], exclude: ['A'] }, ['u3', 'u4', 'u6']],
    ['paused counts', { include: ['paused'] }, ['u4']],
    ['paused excludes', { include: ['everyone'], exclude: ['paused'] }, ['u1', 'u2', 'u3', 'u5']],
    ['draft include never matches', { include: ['draft', 'B'], match: 'any' }, ['u1', 'u3']],
    ['draft in an all-audience matches nobody', { include: ['draft', 'B'], match: 'all' }, []],
    ['draft exclude does not exclude', { include: ['A'], exclude: ['draft'] }, ['u1', 'u2', 'u5']],
    ['everyone = every known user', { include: ['everyone'] }, ['u1', 'u2', 'u3', 'u4', 'u5']],
    ['all of everyone and C', { include: ['everyone', 'C'], match: 'all' }, ['u3', 'u5']],
    ['excluding everyone leaves nobody', { include: ['A'], exclude: ['everyone'] }, []],
  ])('%s', async (_name, def, expected) => {
    const d = def as { include: string[]; exclude?: string[]; match?: string };
    const id = await audience({ ...d, include: d.include.map((k) => seg[k]), exclude: (d.exclude ?? []).map((k) => seg[k]) });
    expect(await eligibleUsers(id)).toEqual(expected);
  });

  // Memberships come back as a bit mask over the listed segments (up to 31), else as ids: both, at the edges.
  it.each([31, 34])('an audience naming %i segments', async (n) => {
    const many: string[] = [];
    for (let i = 0; i < n; i++) {
      // u2: only in the last include segment; u3: in the first include segment and in the exclude segment (the last)
      const members = i === n - 2 ? ['u2'] : i === 0 || i === n - 1 ? ['u3'] : [];
      many.push(await aSegment(gw.database.db, ws.id, { name: `Many ${n}.${i}`, members }));
    }
    const id = await audience({ include: many.slice(0, n - 1), match: 'any', exclude: many.slice(n - 1) });
    expect(await eligibleUsers(id)).toEqual(['u2']);
    const all = await audience({ include: [seg.A, ...many.slice(0, n - 2)], match: 'any', exclude: [many[n - 1]] });
    expect(await eligibleUsers(all)).toEqual(['u1', 'u2', 'u5']);
  });

  it('names the segments that matched, failed and excluded', async () => {
    const id = await audience({ include: [seg.A, seg.B, seg.draft], match: 'any', exclude: [seg.C] });
    const res = await gw.api.get(`${base()}/audiences/${id}/check/u5`).expect(200);
    expect(res.body).toEqual({
      eligible: false,
      reasons: [
        { segmentId: seg.A, segmentName: 'A', status: 'active', role: 'include', result: 'matched' },
        { segmentId: seg.B, segmentName: 'B', status: 'active', role: 'include', result: 'failed' },
        { segmentId: seg.draft, segmentName: 'Draft', status: 'draft', role: 'include', result: 'not_counted' },
        { segmentId: seg.C, segmentName: 'C', status: 'active', role: 'exclude', result: 'excluded' },
      ],
    });
  });

  it('a segment archived after it was added stops counting; archived ones cannot be newly added', async () => {
    const s = await aSegment(gw.database.db, ws.id, { name: 'Later archived', members: ['u2'] });
    const id = await audience({ include: [s, seg.B] });
    expect(await eligibleUsers(id)).toEqual(['u1', 'u2', 'u3']);
    await gw.database.db('segments').where({ workspace_id: ws.id, id: s }).update({ status: 'archived' });
    forgetAudiences(); // a status change reaches cached audience definitions within a second; here at once
    expect(await eligibleUsers(id)).toEqual(['u1', 'u3']);
    await gw.api.patch(`${base()}/audiences/${id}`).send({ name: 'Renamed', include: [s, seg.B, seg.A] }).expect(200); // kept, not newly added
    const bad = await gw.api.patch(`${base()}/audiences/${id}`).send({ exclude: [seg.archived] }).expect(400);
    expect(bad.body.error.details).toEqual([{ path: 'exclude.0', message: `segment ${seg.archived} is archived and cannot be added to an audience` }]);
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: [seg.archived] }).expect(400);
  });

  it('a deleted segment stays listed, does not count, and does not block edits', async () => {
    const s = await aSegment(gw.database.db, ws.id, { name: 'Doomed', members: ['u4'] });
    const id = await audience({ include: [s, seg.B] });
    await gw.database.db('segments').where({ workspace_id: ws.id, id: s }).delete();
    forgetAudiences();
    await gw.api.patch(`${base()}/audiences/${id}`).send({ name: 'Still here' }).expect(200);
    const res = await gw.api.get(`${base()}/audiences/${id}/check/u4`).expect(200);
    expect(res.body.eligible).toBe(false);
    expect(res.body.reasons[0]).toEqual({ segmentId: s, segmentName: null, status: 'deleted', role: 'include', result: 'not_counted' });
    expect(await eligibleUsers(id)).toEqual(['u1', 'u3']);
  });

  it('an audience edit takes effect at once, and checks also run inside a transaction', async () => {
    const id = await audience({ include: [seg.A] });
    expect((await gw.api.get(`${base()}/audiences/${id}/check/u3`).expect(200)).body.eligible).toBe(false);
    await gw.api.patch(`${base()}/audiences/${id}`).send({ include: [seg.B] }).expect(200);
    expect((await gw.api.get(`${base()}/audiences/${id}/check/u3`).expect(200)).body.eligible).toBe(true);
    forgetAudiences();
    await gw.database.db.transaction(async (trx) => {
      expect((await checkUser(trx, ws.id, id, 'u3')).eligible).toBe(true); // definition read in the query
      expect((await checkUser(trx, ws.id, id, 'u2')).eligible).toBe(false); // cached definition
    });
  });

  it('concurrent checks (grouped into shared statements) answer each user correctly', async () => {
    const id = await audience({ include: [seg.A, seg.everyone], match: 'all', exclude: [seg.C] });
    await gw.api.get(`${base()}/audiences/${id}/check/u1`).expect(200); // definition cached
    const users = Array.from({ length: 60 }, (_, i) => ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'][i % 6]);
    const answers = await Promise.all(users.map((u) => gw.api.get(`${base()}/audiences/${id}/check/${u}`).expect(200)));
    const eligible = new Set(users.filter((_, i) => answers[i].body.eligible));
    expect([...eligible].sort()).toEqual(['u1', 'u2']);
  });

  it('concurrent checks while the definition is not cached (one reads it, the others wait) answer each user correctly', async () => {
    const id = await audience({ include: [seg.A, seg.B], match: 'any', exclude: [seg.C] });
    forgetAudiences();
    const users = Array.from({ length: 60 }, (_, i) => ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'][i % 6]);
    const answers = await Promise.all(users.map((u) => gw.api.get(`${base()}/audiences/${id}/check/${u}`).expect(200)));
    expect([...new Set(users.filter((_, i) => answers[i].body.eligible))].sort()).toEqual(['u1', 'u2']);
  });

  it('a definition read before an edit in this process is not cached', async () => {
    const def = { id: '00000000-0000-4000-8000-000000000001', name: 'x', include: [], match: 'any' as const, exclude: [] };
    const readAt = cacheGeneration();
    forgetAudiences(ws.id, def.id); // an edit lands while the read was in flight
    expect(rememberAudience(ws.id, def, new Map(), readAt).def).toBe(def); // still answers the check that read it
    expect(cachedAudience(ws.id, def.id)).toBeUndefined();
    rememberAudience(ws.id, def, new Map(), cacheGeneration());
    expect(cachedAudience(ws.id, def.id)?.def).toBe(def);
    forgetAudiences(ws.id, def.id);
  });

  it('validates audiences', async () => {
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: ['00000000-0000-4000-8000-000000000000'] }).expect(400);
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: [seg.A], exclude: [seg.A] }).expect(400);
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: [seg.A], match: 'most' }).expect(400);
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: ['nope'] }).expect(400);
    await gw.api.post(`${base()}/audiences/${seg.A}/check`).send({ userIds: [] }).expect(400);
    await gw.api.get(`${base()}/audiences/${seg.A}/check/u1`).expect(404);
    await gw.api.get(`${base()}/audiences/not-a-uuid/check/u1`).expect(404);
  });

  it('pages members with a cursor', async () => {
    const id = await audience({ include: [seg.everyone] });
    const p1 = await gw.api.get(`${base()}/audiences/${id}/members?limit=2`).expect(200);
    expect(p1.body.members).toEqual(['u1', 'u2']);
    const p2 = await gw.api.get(`${base()}/audiences/${id}/members?limit=2&cursor=${p1.body.nextCursor}`).expect(200);
    expect(p2.body.members).toEqual(['u3', 'u4']);
    const p3 = await gw.api.get(`${base()}/audiences/${id}/members?limit=2&cursor=${p2.body.nextCursor}`).expect(200);
    expect(p3.body).toEqual({ members: ['u5'], nextCursor: null });
  });
});

describe('survey eligibility', () => {
  it('uses the survey audience; no audience means everyone; an inactive survey is shown to nobody', async () => {
    const aud = await audience({ include: [seg.B] });
    const targeted = (await gw.api.post(`${base()}/surveys`).send({ ...npsSurvey, audienceId: aud }).expect(201)).body.id;
    const open = (await gw.api.post(`${base()}/surveys`).send(npsSurvey).expect(201)).body.id;
    expect((await gw.api.get(`${base()}/surveys/${targeted}/eligibility/u3`).expect(200)).body).toMatchObject({ eligible: true, audienceId: aud });
    expect((await gw.api.get(`${base()}/surveys/${targeted}/eligibility/u2`).expect(200)).body.eligible).toBe(false);
    expect((await gw.api.get(`${base()}/surveys/${open}/eligibility/someone-new`).expect(200)).body).toMatchObject({ eligible: true, audienceId: null });
    await gw.api.patch(`${base()}/surveys/${targeted}`).send({ status: 'paused' }).expect(200);
    expect((await gw.api.get(`${base()}/surveys/${targeted}/eligibility/u3`).expect(200)).body).toMatchObject({ eligible: false, surveyStatus: 'paused' });
  });
});

describe('workspace lookup cache', () => {
  it('a workspace edit is visible at once in this process', async () => {
    await gw.api.get(`/api/workspaces/${ws.id}`).expect(200); // cached
    await gw.api.patch(`/api/workspaces/${ws.id}`).send({ name: 'Renamed workspace' }).expect(200);
    expect((await gw.api.get(`/api/workspaces/${ws.id}`).expect(200)).body.name).toBe('Renamed workspace');
    await gw.api.get('/api/workspaces/00000000-0000-4000-8000-000000000000/audiences').expect(404);
  });
});

describe('tenant isolation', () => {
  it("workspace B's ids through A's paths are not found", async () => {
    const other = await gw.createWorkspace('Other');
    const ob = `/api/workspaces/${other.id}`;
    const segB = await aSegment(gw.database.db, other.id, { name: 'B-only', members: ['u1'] });
    const audB = (await gw.api.post(`${ob}/audiences`).send({ name: 'B aud', include: [segB] }).expect(201)).body.id;
    const surveyB = (await gw.api.post(`${ob}/surveys`).send(npsSurvey).expect(201)).body.id;
    await gw.http.post('/v1/responses').auth(other.ingestKey, '').send({ userId: 'u1', surveyId: surveyB, answers: { nps: 9 } }).expect(200);

    await gw.api.get(`${base()}/audiences/${audB}`).expect(404);
    await gw.api.patch(`${base()}/audiences/${audB}`).send({ name: 'x' }).expect(404);
    await gw.api.get(`${base()}/audiences/${audB}/check/u1`).expect(404);
    await gw.api.post(`${base()}/audiences/${audB}/check`).send({ userIds: ['u1'] }).expect(404);
    await gw.api.get(`${base()}/audiences/${audB}/members`).expect(404);
    await gw.api.get(`${base()}/surveys/${surveyB}`).expect(404);
    await gw.api.patch(`${base()}/surveys/${surveyB}`).send({ name: 'x' }).expect(404);
    await gw.api.get(`${base()}/surveys/${surveyB}/summary`).expect(404);
    await gw.api.get(`${base()}/surveys/${surveyB}/eligibility/u1`).expect(404);
    await gw.api.get(`${base()}/responses?surveyId=${surveyB}`).expect(404);
    await gw.api.get(`${base()}/responses?segmentId=${segB}`).expect(404);
    await gw.api.post(`${base()}/audiences`).send({ name: 'x', include: [segB] }).expect(400);
    await gw.api.post(`${base()}/surveys`).send({ ...npsSurvey, audienceId: audB }).expect(400);
    // A's ingest key cannot answer B's survey, and A's listing never shows B's responses
    await gw.http.post('/v1/responses').auth(ws.ingestKey, '').send({ userId: 'u1', surveyId: surveyB, answers: { nps: 9 } }).expect(404);
    await gw.http.post('/v1/interactions').auth(ws.ingestKey, '').send({ userId: 'u1', surveyId: surveyB, type: 'seen' }).expect(404);
    const listed = await gw.api.get(`${base()}/responses`).expect(200);
    expect(listed.body.responses).toEqual([]);
  });
});
