import crypto from 'node:crypto';
import PQueue from 'p-queue';
import type { AppContext } from '../http/context.js';
import { SegmentClients, type SegmentCall } from './segment-client.js';
import { outcomeOf, queueNow, type AttemptResult, type RetryPolicy } from './retry.js';
import {
  getSegmentIntegrations, loadInteractions, loadResponses, recordAttempts,
  type AttemptRecord, type InteractionToPush, type ResponseToPush, type RetryJob, type SegmentIntegrationRow,
} from './store.js';

export const DEFAULT_EVENTS = { completed: 'Survey Completed', seen: 'Survey Seen', dismissed: 'Survey Dismissed' };

export function surveySelected(i: SegmentIntegrationRow, surveyId: string): boolean {
  return i.survey_ids === null || i.survey_ids.includes(surveyId);
}

/** messageIds are derived from the response and the call, so a retried or replayed push is de-duplicated by Segment. */
export const messageIds = {
  identify: (responseId: string) => `resp-${responseId}-identify`,
  group: (responseId: string, groupId: string) => `resp-${responseId}-group-${crypto.createHash('sha256').update(groupId).digest('hex').slice(0, 16)}`,
  track: (responseId: string) => `resp-${responseId}-track`,
  interaction: (interactionId: string) => `int-${interactionId}-track`,
};

/** CONTRACT §4: identify with prefixed answer traits, group per account, track with the answers. */
export function responseCalls(r: ResponseToPush, i: SegmentIntegrationRow): SegmentCall[] {
  const prefix = i.trait_prefix;
  const at = new Date(r.completed_at);
  const traits: Record<string, unknown> = {};
  for (const [q, v] of Object.entries(r.answers)) traits[`${prefix}${q}`] = v;
  traits[`${prefix}last_survey`] = r.survey_name;
  traits[`${prefix}last_survey_at`] = at.toISOString();
  const groupTraits = { [`${prefix}last_survey`]: r.survey_name, [`${prefix}last_survey_at`]: at.toISOString() };
  return [
    { type: 'identify', messageId: messageIds.identify(r.id), userId: r.user_id, traits, timestamp: at },
    ...r.group_ids.map((g): SegmentCall => ({ type: 'group', messageId: messageIds.group(r.id, g), userId: r.user_id, groupId: g, traits: groupTraits, timestamp: at })),
    {
      type: 'track', messageId: messageIds.track(r.id), userId: r.user_id, timestamp: at,
      event: i.events.completed ?? DEFAULT_EVENTS.completed,
      properties: { ...r.answers, survey_id: r.survey_id, survey_name: r.survey_name, response_id: r.id, answers: r.answers },
    },
  ];
}

export function interactionCalls(x: InteractionToPush, i: SegmentIntegrationRow): SegmentCall[] {
  const enabled = x.type === 'seen' ? i.track_seen : i.track_dismissed;
  if (!enabled) return [];
  return [{
    type: 'track', messageId: messageIds.interaction(x.id), userId: x.user_id, timestamp: new Date(x.at),
    event: (x.type === 'seen' ? i.events.seen : i.events.dismissed) ?? DEFAULT_EVENTS[x.type],
    properties: { survey_id: x.survey_id, survey_name: x.survey_name, interaction_id: x.id },
  }];
}

/** The result of a message made of several calls: a permanent failure wins, then any failure, else delivered. */
export function combine(results: AttemptResult[]): AttemptResult {
  const failures = results.filter((r): r is Extract<AttemptResult, { ok: false }> => !r.ok);
  if (!failures.length) return results[0] ?? { ok: true, status: 200 };
  const permanent = failures.find((f) => f.status !== null && f.status >= 400 && f.status < 500 && f.status !== 408 && f.status !== 429);
  if (permanent) return permanent;
  const retryAfterMs = Math.max(...failures.map((f) => f.retryAfterMs ?? 0));
  return { ...failures[0], ...(retryAfterMs ? { retryAfterMs } : {}) };
}

export type PushKind = 'response' | 'interaction';

export interface PushOptions {
  /** How long the first job of a batch waits for others (ms). */
  batchWindowMs: number;
  /** Messages per batch at most. */
  maxBatch: number;
  /** Workspace batches sent to Segment at once (p-queue), across workspaces. */
  concurrency: number;
  retry: RetryPolicy;
}

interface Item { kind: PushKind; workspaceId: string; id: string; resolve(): void; reject(e: unknown): void }

interface Message {
  workspaceId: string;
  kind: PushKind;
  id: string;
  attempts: number;
  calls: SegmentCall[];
}

const TASK: Record<PushKind, string> = { response: 'segment.push-response', interaction: 'segment.push-interaction' };
const payloadOf = (m: { kind: PushKind; workspaceId: string; id: string }) =>
  m.kind === 'response' ? { workspaceId: m.workspaceId, responseId: m.id } : { workspaceId: m.workspaceId, interactionId: m.id };
export const segmentJobKey = (kind: PushKind, id: string) => `segment:${kind}:${id}`;

/**
 * Gathers the push jobs running at the same moment into one batch: one query loads them all, their calls share
 * analytics-node's batched requests, one statement writes their delivery rows. Each job's promise settles when its
 * own message was accepted by Segment, scheduled for a retry, or marked dead; it rejects only when the database
 * failed (graphile-worker then retries the job).
 */
export class SegmentPusher {
  private pending: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: PQueue;

  constructor(private readonly ctx: AppContext, readonly clients: SegmentClients, private readonly opts: PushOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  push(kind: PushKind, workspaceId: string, id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ kind, workspaceId, id, resolve, reject });
      if (this.pending.length >= this.opts.maxBatch) this.drain();
      else this.timer ??= setTimeout(() => this.drain(), this.opts.batchWindowMs);
    });
  }

  private drain() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.pending;
    this.pending = [];
    this.process(items).then(
      () => items.forEach((i) => i.resolve()),
      (e) => items.forEach((i) => i.reject(e)),
    );
  }

  private async process(items: Item[]): Promise<void> {
    const { db } = this.ctx;
    const unique = new Map(items.map((i) => [`${i.kind}:${i.workspaceId}:${i.id}`, i]));
    const keysOf = (kind: PushKind) => [...unique.values()].filter((i) => i.kind === kind).map((i) => ({ workspaceId: i.workspaceId, id: i.id }));
    const [responses, interactions, integrationRows] = await Promise.all([
      loadResponses(db, keysOf('response')),
      loadInteractions(db, keysOf('interaction')),
      getSegmentIntegrations(db, [...new Set(items.map((i) => i.workspaceId))]),
    ]);
    const integrations = new Map(integrationRows.map((i) => [i.workspace_id, i]));
    const active = (workspaceId: string, surveyId: string) => {
      const i = integrations.get(workspaceId);
      return i && i.enabled && surveySelected(i, surveyId) ? i : undefined;
    };

    const records: AttemptRecord[] = [];
    const retries: RetryJob[] = [];
    // A message that has a delivery row (retrying, or replayed) but whose integration was switched off or whose survey
    // was deselected since: closed as dead, so nothing stays "retrying" for ever. Never-attempted ones leave no row.
    const dropped = (workspaceId: string, kind: PushKind, m: { id: string; attempts: number; has_delivery: boolean }) => {
      if (!m.has_delivery) return;
      records.push({
        workspace_id: workspaceId, destination: 'segment', destination_id: null, message_key: `${kind}:${m.id}`, status: 'dead',
        attempts: m.attempts, status_code: null, error: 'Not sent: the Segment integration is disabled or the survey is not selected',
        next_attempt_at: null, at: queueNow(),
      });
    };
    const byWorkspace = new Map<string, Message[]>();
    const add = (m: Message) => {
      const list = byWorkspace.get(m.workspaceId) ?? [];
      list.push(m);
      byWorkspace.set(m.workspaceId, list);
    };
    for (const r of responses) {
      const i = active(r.workspace_id, r.survey_id);
      if (i) add({ workspaceId: r.workspace_id, kind: 'response', id: r.id, attempts: r.attempts, calls: responseCalls(r, i) });
      else dropped(r.workspace_id, 'response', r);
    }
    for (const x of interactions) {
      const i = active(x.workspace_id, x.survey_id);
      const calls = i ? interactionCalls(x, i) : [];
      if (calls.length) add({ workspaceId: x.workspace_id, kind: 'interaction', id: x.id, attempts: x.attempts, calls });
      else dropped(x.workspace_id, 'interaction', x);
    }

    await Promise.all([...byWorkspace].map(([workspaceId, messages]) => this.queue.add(async () => {
      const calls = messages.flatMap((m) => m.calls);
      let results: AttemptResult[];
      try {
        const writeKey = this.ctx.secrets.decrypt(integrations.get(workspaceId)!.write_key_enc);
        results = await this.clients.send(writeKey, calls);
      } catch (e) {
        // One workspace's problem (a write key sealed under another SECRET_KEY) must not fail the other workspaces' jobs.
        const error = `Could not send: ${(e as Error).message}`;
        results = calls.map(() => ({ ok: false, status: null, error }));
      }
      const now = queueNow();
      let k = 0;
      for (const m of messages) {
        const result = combine(results.slice(k, (k += m.calls.length)));
        const attempt = m.attempts + 1;
        const outcome = outcomeOf(this.opts.retry, result, attempt);
        const nextAt = outcome.status === 'retrying' ? new Date(now.getTime() + outcome.delayMs) : null;
        records.push({
          workspace_id: workspaceId, destination: 'segment', destination_id: null, message_key: `${m.kind}:${m.id}`,
          status: outcome.status, attempts: attempt, status_code: result.status, error: result.ok ? null : result.error,
          next_attempt_at: nextAt, at: now,
        });
        if (nextAt) retries.push({ task: TASK[m.kind], payload: payloadOf(m), run_at: nextAt, job_key: segmentJobKey(m.kind, m.id) });
      }
    })));
    await recordAttempts(db, records, retries);
  }
}
