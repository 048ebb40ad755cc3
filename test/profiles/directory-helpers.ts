import type { TestGateway } from '../helpers/gateway.js';

export interface IdentifyInput { userId: string; traits?: Record<string, unknown>; at: Date }

/** Users arrive the way they do in production: identify calls through /v1/batch with the ingest key. */
export async function identify(gw: TestGateway, ingestKey: string, users: IdentifyInput[]) {
  const batch = users.map((u) => ({ type: 'identify', userId: u.userId, traits: u.traits ?? {}, timestamp: u.at.toISOString() }));
  const res = await gw.http.post('/v1/batch').auth(ingestKey, '').send({ batch }).expect(200);
  if (res.body.rejected?.length) throw new Error(`rejected: ${JSON.stringify(res.body.rejected)}`);
}

export const minutesAgo = (gw: TestGateway, m: number) => new Date(gw.clock.now().getTime() - m * 60_000);
export const daysAgo = (gw: TestGateway, d: number) => new Date(gw.clock.now().getTime() - d * 86_400_000);

/** A segment written directly (the segment engine owns its API); members with their entry times. */
export async function aSegment(gw: TestGateway, workspaceId: string, opts: { name?: string; type?: 'static' | 'dynamic' | 'everyone'; status?: string; members?: string[] } = {}) {
  const db = gw.database.db;
  const [row] = await db('segments')
    .insert({ workspace_id: workspaceId, name: opts.name ?? 'Segment', type: opts.type ?? 'static', status: opts.status ?? 'active' })
    .returning('id');
  if (opts.members?.length) {
    await db('segment_members').insert(opts.members.map((userId) => ({ workspace_id: workspaceId, segment_id: row.id, user_id: userId })));
  }
  return row.id as string;
}

export interface UserRow { userId: string; email: string | null; name: string | null; segments: string[]; lastSeenAt: string; firstSeenAt: string; lastSurveyResponseAt: string | null; traits: Record<string, unknown> }
export interface ListBody { users: UserRow[]; nextCursor: string | null; total: number; totalIsEstimate: boolean }

export async function list(gw: TestGateway, workspaceId: string, query: Record<string, string | number> = {}): Promise<ListBody> {
  const res = await gw.api.get(`/api/workspaces/${workspaceId}/users`).query(query).expect(200);
  return res.body;
}

/** Every page, following nextCursor. */
export async function allPages(gw: TestGateway, workspaceId: string, query: Record<string, string | number>, between?: (page: number) => Promise<void>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const body: ListBody = await list(gw, workspaceId, cursor ? { ...query, cursor } : query);
    ids.push(...body.users.map((u) => u.userId));
    cursor = body.nextCursor;
    if (!cursor) break;
    if (between) await between(page);
  }
  return ids;
}
