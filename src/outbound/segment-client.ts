import { Analytics, type HTTPClient, type HTTPClientRequest, type HTTPResponse } from '@segment/analytics-node';
import { parseRetryAfter, type AttemptResult } from './retry.js';

export interface SegmentClientOptions {
  /** Segment's API host (SEGMENT_API_HOST). */
  host: string;
  /** Calls per HTTP request at most (the library also keeps a request under 500 KB). */
  flushAt: number;
  /** How long a partly filled batch waits for more calls before it is sent. */
  flushIntervalMs: number;
  timeoutMs: number;
}

export type SegmentCall =
  | { type: 'identify'; messageId: string; userId: string; traits: Record<string, unknown>; timestamp: Date }
  | { type: 'group'; messageId: string; userId: string; groupId: string; traits: Record<string, unknown>; timestamp: Date }
  | { type: 'track'; messageId: string; userId: string; event: string; properties: Record<string, unknown>; timestamp: Date };

interface Answer { status: number; retryAfterMs?: number; body: string }

/**
 * The library's HTTP client, wrapped so we learn each batch's real answer. analytics-node reports a failed call to
 * its callback only as an Error("[status] text"): no Retry-After, no body. This client records every non-2xx answer
 * by the messageIds of the batch it carried, and hides Retry-After from the library (which would otherwise sleep and
 * retry inside the job): the outbox schedules the next attempt itself.
 */
class RecordingHttpClient implements HTTPClient {
  requests = 0;
  private readonly failures = new Map<string, Answer>();

  async makeRequest(req: HTTPClientRequest): Promise<HTTPResponse> {
    this.requests++;
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: req.body as string,
      signal: AbortSignal.timeout(req.httpRequestTimeout),
    });
    const body = await res.text();
    if (res.status >= 400) {
      const answer: Answer = { status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), new Date()), body: body.slice(0, 300) };
      const sent = JSON.parse(req.body as string) as { batch: { messageId: string }[] };
      for (const m of sent.batch) this.failures.set(m.messageId, answer);
    }
    return { status: res.status, statusText: res.statusText, headers: {} };
  }

  /** The recorded answer for one message (read once). */
  take(messageId: string): Answer | undefined {
    const a = this.failures.get(messageId);
    this.failures.delete(messageId);
    return a;
  }
}

/** Who waits for a call's outcome: a messageId can be in flight twice (a replay next to a retry), so a FIFO each. */
type Waiter = (err: unknown) => void;

interface Pooled { analytics: Analytics; http: RecordingHttpClient; waiters: Map<string, Waiter[]> }

/**
 * One analytics-node client per write key, reused across jobs so calls from many jobs share batched requests.
 * `send` resolves each call with its own result once the request carrying it was answered.
 * How we learn a call's outcome: from the client's events, not the per-call callback. The library emits, per call,
 * `<type>` (identify/group/track) with the call's context once its request succeeded, or `error` with the context
 * (`delivery_failure`) once it failed; we match the context's messageId. The per-call callback would tell the same,
 * but analytics-core delays it to at least 300 ms after the call (its legacy `invokeCallback` sleep) and arms two
 * timers per call for it: that latency, not CPU, held every batch for 300 ms. flush() cannot be used either: it
 * waits for every pending call of the client and warns on overlapping calls.
 * Cost: the library's per-call pipeline (context, plugins, event queue) still takes ~100 µs of CPU per call.
 */
export class SegmentClients {
  private readonly clients = new Map<string, Pooled>();
  constructor(private readonly opts: SegmentClientOptions) {}

  /** HTTP requests made so far (all write keys). */
  get requests(): number {
    let n = 0;
    for (const c of this.clients.values()) n += c.http.requests;
    return n;
  }

  private client(writeKey: string): Pooled {
    let c = this.clients.get(writeKey);
    if (!c) {
      const http = new RecordingHttpClient();
      const analytics = new Analytics({
        writeKey,
        host: this.opts.host,
        flushAt: this.opts.flushAt,
        flushInterval: this.opts.flushIntervalMs,
        httpRequestTimeout: this.opts.timeoutMs,
        maxRetries: 0, // retries belong to the outbox (durable, with backoff and jitter), not to process memory
        httpClient: http,
      });
      const waiters = new Map<string, Waiter[]>();
      const settle = (messageId: string | undefined, err: unknown) => {
        const list = messageId === undefined ? undefined : waiters.get(messageId);
        const w = list?.shift();
        if (list && !list.length) waiters.delete(messageId!);
        w?.(err);
      };
      const delivered = (ctx: { event: { messageId?: string } }) => settle(ctx.event.messageId, undefined);
      analytics.on('identify', delivered);
      analytics.on('group', delivered);
      analytics.on('track', delivered);
      analytics.on('error', (e) => {
        if (e.ctx) return settle(e.ctx.event.messageId, e.reason ?? new Error(e.code));
        // An error without a context (the library threw inside dispatch) cannot be told apart: every call waiting on
        // this client fails and is retried by the outbox with the same messageIds, which Segment de-duplicates.
        const all = [...waiters.values()].flat();
        waiters.clear();
        for (const w of all) w(e.reason ?? new Error(e.code));
      });
      c = { analytics, http, waiters };
      this.clients.set(writeKey, c);
    }
    return c;
  }

  /**
   * Enqueues every call in one synchronous loop, so they reach the library's batch before its flush timer fires,
   * and settles once, when the last call's outcome came: one promise per batch, not one per call.
   */
  send(writeKey: string, calls: SegmentCall[]): Promise<AttemptResult[]> {
    const { analytics, http, waiters } = this.client(writeKey);
    const results = new Array<AttemptResult>(calls.length);
    if (!calls.length) return Promise.resolve(results);
    return new Promise<AttemptResult[]>((resolve) => {
      let left = calls.length;
      for (let k = 0; k < calls.length; k++) {
        const call = calls[k];
        const waiter: Waiter = (err) => {
          results[k] = err ? resultOf(err, http.take(call.messageId)) : OK;
          if (--left === 0) resolve(results);
        };
        const list = waiters.get(call.messageId);
        if (list) list.push(waiter);
        else waiters.set(call.messageId, [waiter]);
        try {
          dispatch(analytics, call);
        } catch (err) {
          // The library rejected the call before queueing it (its validation throws): only this call fails.
          const l = waiters.get(call.messageId)!;
          l.splice(l.lastIndexOf(waiter), 1);
          if (!l.length) waiters.delete(call.messageId);
          waiter(new NotSent((err as Error)?.message ?? String(err)));
        }
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.analytics.closeAndFlush({ timeout: 5000 })));
    this.clients.clear();
  }
}

/** A call the library refused before queueing it (its validation threw). */
class NotSent extends Error {}

function dispatch(analytics: Analytics, call: SegmentCall): void {
  switch (call.type) {
    case 'identify':
      return analytics.identify({ userId: call.userId, traits: call.traits, timestamp: call.timestamp, messageId: call.messageId });
    case 'group':
      return analytics.group({ userId: call.userId, groupId: call.groupId, traits: call.traits, timestamp: call.timestamp, messageId: call.messageId });
    case 'track':
      return analytics.track({ userId: call.userId, event: call.event, properties: call.properties, timestamp: call.timestamp, messageId: call.messageId });
    default: {
      const never: never = call;
      throw new Error(`Unknown call ${JSON.stringify(never)}`);
    }
  }
}

const OK: AttemptResult = Object.freeze({ ok: true, status: 200 });

function resultOf(err: unknown, answer: Answer | undefined): AttemptResult {
  if (!err) return OK;
  if (answer) return { ok: false, status: answer.status, error: `Segment answered ${answer.status}: ${answer.body}`.trim(), retryAfterMs: answer.retryAfterMs };
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  if (e?.name === 'TimeoutError') return { ok: false, status: null, error: 'Segment did not answer in time' };
  if (err instanceof NotSent) return { ok: false, status: null, error: `Not sent: ${err.message}` };
  return { ok: false, status: null, error: `Segment unreachable: ${e?.cause?.message ?? e?.message ?? String(err)}` };
}
