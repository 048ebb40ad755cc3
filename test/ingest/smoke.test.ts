import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';

const gw = useGateway();

describe('ingest smoke', () => {
  it('stores an identify and answers 501 for page', async () => {
    const ws = await gw.createWorkspace();
    await gw.http.post('/v1/identify').auth(ws.ingestKey, '').send({ userId: 'u1', traits: { plan: 'pro' } }).expect(200, { success: true });
    await gw.http.post('/v1/page').auth(ws.ingestKey, '').send({ userId: 'u1' }).expect(501);
    const user = await gw.database.db('users').where({ workspace_id: ws.id, user_id: 'u1' }).first();
    expect(user.traits).toEqual({ plan: 'pro' });
  });
});
