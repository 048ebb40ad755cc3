import type { TaskList } from 'graphile-worker';
import { z } from 'zod';
import type { AppContext } from '../http/context.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { SegmentClients } from './segment-client.js';
import { SegmentPusher } from './segment-push.js';
import { deliver, fanOut } from './webhooks.js';

export interface OutboundOptions {
  retry: RetryPolicy;
  /** HTTP timeout for Segment, webhooks and Slack (ms). */
  timeoutMs: number;
  /** Calls per request to Segment at most, and how long a partial batch waits (ms). */
  segmentFlushAt: number;
  segmentFlushIntervalMs: number;
  /** Push jobs gathered into one batch: how long the first waits (ms), and how many at most. */
  batchWindowMs: number;
  maxBatch: number;
  /** Workspace batches in flight to Segment at once. */
  concurrency: number;
}

export const defaultOutboundOptions: OutboundOptions = {
  retry: defaultRetryPolicy,
  timeoutMs: 10_000,
  segmentFlushAt: 500,
  segmentFlushIntervalMs: 2,
  batchWindowMs: 10,
  maxBatch: 250,
  concurrency: 8,
};

const PushResponse = z.object({ workspaceId: z.uuid(), responseId: z.uuid() });
const PushInteraction = z.object({ workspaceId: z.uuid(), interactionId: z.uuid() });
const Membership = z.object({
  workspaceId: z.uuid(), segmentId: z.uuid(), userId: z.string(), change: z.enum(['entered', 'exited']),
  at: z.string(), logId: z.union([z.string(), z.number()]),
});
const Deliver = z.object({ workspaceId: z.uuid(), deliveryId: z.uuid() });

export interface OutboundTasks { tasks: TaskList; clients: SegmentClients; close(): Promise<void> }

/** The outbound task handlers (graphile-worker). A malformed payload throws: the job fails visibly. */
export function outboundTasks(ctx: AppContext, overrides: Partial<OutboundOptions> = {}): OutboundTasks {
  const opts = { ...defaultOutboundOptions, ...overrides };
  const clients = new SegmentClients({
    host: ctx.config.SEGMENT_API_HOST, flushAt: opts.segmentFlushAt, flushIntervalMs: opts.segmentFlushIntervalMs, timeoutMs: opts.timeoutMs,
  });
  const pusher = new SegmentPusher(ctx, clients, opts);
  const tasks: TaskList = {
    'segment.push-response': async (payload) => {
      const p = PushResponse.parse(payload);
      await pusher.push('response', p.workspaceId, p.responseId);
    },
    'segment.push-interaction': async (payload) => {
      const p = PushInteraction.parse(payload);
      await pusher.push('interaction', p.workspaceId, p.interactionId);
    },
    'segment.membership': async (payload) => {
      await fanOut(ctx, Membership.parse(payload));
    },
    'outbound.deliver': async (payload) => {
      const p = Deliver.parse(payload);
      await deliver(ctx, p.workspaceId, p.deliveryId, opts);
    },
  };
  return { tasks, clients, close: () => clients.close() };
}
