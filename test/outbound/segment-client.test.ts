import { afterEach, describe, expect, it } from 'vitest';
import { SegmentClients, type SegmentCall } from '../../src/outbound/segment-client.js';
import { receiver, type Receiver } from './receiver.js';

// SegmentClients learns each call's outcome from the library's per-call events, matched by messageId.
const track = (messageId: string): SegmentCall => ({
  type: 'track', messageId, userId: 'u1', event: 'Survey Completed', properties: { nps: 9 }, timestamp: new Date('2026-11-01T00:00:00Z'),
});

describe('SegmentClients', () => {
  let segment: Receiver;
  let clients: SegmentClients;
  afterEach(async () => {
    await clients?.close();
    await segment?.close();
  });

  it('settles two sends that carry the same messageId at once, each with its own answer', async () => {
    segment = await receiver();
    segment.replies.push({ status: 503, body: 'busy' });
    // flushAt 1: one request per call; one of the two requests gets the 503, the other the 200 (which one depends on
    // which arrives first). Neither send may hang or take the other's answer twice.
    clients = new SegmentClients({ host: segment.url, flushAt: 1, flushIntervalMs: 2, timeoutMs: 5000 });
    const [first, second] = await Promise.all([clients.send('wk', [track('m-1')]), clients.send('wk', [track('m-1')])]);
    expect([first[0], second[0]].sort((a, b) => (a.status ?? 0) - (b.status ?? 0))).toEqual([
      { ok: true, status: 200 },
      { ok: false, status: 503, error: 'Segment answered 503: busy', retryAfterMs: undefined },
    ]);
    expect(segment.requests).toHaveLength(2);
  });

  it('resolves every call of a batch sent in one request, failures by their own messageId', async () => {
    segment = await receiver();
    clients = new SegmentClients({ host: segment.url, flushAt: 500, flushIntervalMs: 2, timeoutMs: 5000 });
    const ok = await clients.send('wk', [track('a'), track('b'), track('c')]);
    expect(ok).toEqual([{ ok: true, status: 200 }, { ok: true, status: 200 }, { ok: true, status: 200 }]);
    expect(segment.requests).toHaveLength(1);
    expect(segment.requests[0].json.batch.map((m: { messageId: string }) => m.messageId)).toEqual(['a', 'b', 'c']);

    segment.replies.push({ status: 400, body: 'bad' });
    const bad = await clients.send('wk', [track('d'), track('e')]);
    expect(bad.map((r) => r.ok ? r.status : `${r.status} ${r.error}`)).toEqual(['400 Segment answered 400: bad', '400 Segment answered 400: bad']);
  });
});

describe('SegmentClients, a call the library refuses', () => {
  it('fails only that call, the others of the batch are sent', async () => {
    const segment = await receiver();
    const clients = new SegmentClients({ host: segment.url, flushAt: 500, flushIntervalMs: 2, timeoutMs: 5000 });
    try {
      const refused = { ...track('x'), userId: undefined as unknown as string };
      const results = await clients.send('wk', [track('a'), refused, track('b')]);
      expect(results[0]).toEqual({ ok: true, status: 200 });
      expect(results[1]).toMatchObject({ ok: false, status: null, error: expect.stringMatching(/^Not sent: /) });
      expect(results[2]).toEqual({ ok: true, status: 200 });
      expect(segment.requests.flatMap((r) => r.json.batch.map((m: { messageId: string }) => m.messageId))).toEqual(['a', 'b']);
    } finally {
      await clients.close();
      await segment.close();
    }
  });
});
