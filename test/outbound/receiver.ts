import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received { method: string; path: string; headers: http.IncomingHttpHeaders; body: string; json: any }
/** What the receiver answers: a status (and headers), or 'hang' (never answers: a timeout or a killed worker). */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/**
 * A local HTTP server standing in for Segment, a webhook receiver or Slack. Replies are taken from `replies`
 * in order, then `fallback`. Every request is recorded.
 */
export async function receiver(fallback: Reply = { status: 200, body: '{"success":true}' }) {
  const requests: Received[] = [];
  const replies: Reply[] = [];
  const hanging = new Set<http.ServerResponse>();
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try { json = JSON.parse(body); } catch { json = undefined; }
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body, json });
      waiters.splice(0).forEach((w) => w());
      const reply = replies.shift() ?? fallback;
      if (reply === 'hang') { hanging.add(res); return; }
      res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
      res.end(reply.body ?? '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    replies,
    /** Resolves once at least n requests arrived. */
    async waitFor(n: number) {
      while (requests.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof receiver>>;
