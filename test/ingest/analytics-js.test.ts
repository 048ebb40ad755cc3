import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';

const gw = useGateway();

// analytics.js (Analytics 2.0) posts each call to /v1/<first letter of its type> with the write key in the body,
// as text/plain so the browser sends no CORS preflight; in batching mode it posts {batch, writeKey} to /v1/b.
describe('analytics.js paths', () => {
  it('stores identify, track and group sent to /v1/i, /v1/t and /v1/g, and answers 501 on /v1/p', async () => {
    const ws = await gw.createWorkspace();
    const send = (path: string, body: object) =>
      gw.http.post(path).set('Content-Type', 'text/plain').set('Origin', 'https://shop.example').send(JSON.stringify({ ...body, writeKey: ws.ingestKey }));

    const res = await send('/v1/i', { anonymousId: 'anon-1', userId: 'ada', traits: { plan: 'pro' }, messageId: 'ajs-1' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    await send('/v1/t', { userId: 'ada', event: 'Clicked Upgrade', properties: { plan: 'pro' }, messageId: 'ajs-2' }).expect(200);
    await send('/v1/g', { userId: 'ada', groupId: 'acme', traits: { employees: 120 }, messageId: 'ajs-3' }).expect(200);
    const page = await send('/v1/p', { userId: 'ada', name: 'Home', messageId: 'ajs-4' }).expect(501);
    expect(page.body.code).toBe('not_supported');

    const rows = await gw.database.db('events').where({ workspace_id: ws.id }).orderBy('message_id').select('message_id', 'type', 'event');
    expect(rows).toEqual([
      { message_id: 'ajs-1', type: 'identify', event: null },
      { message_id: 'ajs-2', type: 'track', event: 'Clicked Upgrade' },
      { message_id: 'ajs-3', type: 'group', event: null },
    ]);
  });

  it('stores a batch posted to /v1/b', async () => {
    const ws = await gw.createWorkspace('Batching');
    const res = await gw.http.post('/v1/b').set('Content-Type', 'text/plain').send(JSON.stringify({
      writeKey: ws.ingestKey,
      batch: [
        { type: 'track', userId: 'lin', event: 'Viewed Pricing', messageId: 'b-1' },
        { type: 'page', userId: 'lin', messageId: 'b-2' },
      ],
    })).expect(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: [{ index: 1, code: 'not_supported' }] });
    expect(await gw.database.db('events').where({ workspace_id: ws.id }).pluck('message_id')).toEqual(['b-1']);
  });

  it('answers a CORS preflight without a key', async () => {
    const res = await gw.http.options('/v1/t').set('Origin', 'https://shop.example').set('Access-Control-Request-Method', 'POST').expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/);
  });
});
