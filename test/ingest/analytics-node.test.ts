import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';

const gw = useGateway();
let server: http.Server;
let host: string;

beforeAll(async () => {
  server = http.createServer(gw.app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the real @segment/analytics-node client pointed at the gateway', () => {
  it('delivers identify, group and track through /v1/batch', async () => {
    const ws = await gw.createWorkspace('Node client');
    const analytics = new Analytics({ writeKey: ws.ingestKey, host, flushAt: 10, flushInterval: 50, maxRetries: 0 });
    const requests: { url: string; status: number }[] = [];
    analytics.on('http_response', (r) => requests.push({ url: r.url, status: r.status }));
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));

    analytics.identify({ userId: 'node-1', traits: { name: 'Ada', plan: 'pro', 'Seats Used': 4, trial: false } });
    analytics.group({ userId: 'node-1', groupId: 'acct-node', traits: { name: 'Initech', employees: 50 } });
    analytics.track({ userId: 'node-1', event: 'Report Exported', properties: { format: 'csv', rows: 120 } });
    analytics.track({ anonymousId: 'anon-node', event: 'Pricing Viewed' });
    await analytics.closeAndFlush({ timeout: 10_000 });

    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.every((r) => r.url === `${host}/v1/batch` && r.status === 200)).toBe(true);

    const db = gw.database.db;
    const events = await db('events').where({ workspace_id: ws.id }).orderBy('id');
    expect(events.map((e) => e.type).sort()).toEqual(['group', 'identify', 'track', 'track']);
    for (const e of events) {
      expect(e.message_id).toMatch(/^node-/); // the library's own messageIds are kept
      expect(e.context).toMatchObject({ library: { name: '@segment/analytics-node' } });
      expect(e.sent_at).toBeInstanceOf(Date);
    }
    const user = await db('users').where({ workspace_id: ws.id, user_id: 'node-1' }).first();
    expect(user.traits).toEqual({ name: 'Ada', plan: 'pro', 'Seats Used': 4, trial: false });
    expect(await db('accounts').where({ workspace_id: ws.id, group_id: 'acct-node' }).first()).toMatchObject({ traits: { name: 'Initech', employees: 50 } });
    expect(await db('account_members').where({ workspace_id: ws.id, user_id: 'node-1', group_id: 'acct-node' })).toHaveLength(1);
    const counts = await db('event_counts').where({ workspace_id: ws.id, user_id: 'node-1' });
    expect(counts.map((c) => [c.event, c.count])).toEqual([['Report Exported', 1]]);
    expect(await db('anonymous_profiles').where({ workspace_id: ws.id, anonymous_id: 'anon-node' })).toHaveLength(1);
  });

  it('sees a wrong write key rejected with 401', async () => {
    const analytics = new Analytics({ writeKey: 'agk_not_a_key', host, flushAt: 1, maxRetries: 0 });
    const statuses: number[] = [];
    analytics.on('http_response', (r) => statuses.push(r.status));
    analytics.on('error', () => undefined);
    analytics.track({ userId: 'x', event: 'Nope' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(statuses).toEqual([401]);
  });
});
