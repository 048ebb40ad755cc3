import crypto from 'node:crypto';
import type { AppContext } from '../http/context.js';
import { outcomeOf, parseRetryAfter, queueNow, type AttemptResult, type RetryPolicy } from './retry.js';
import { fanOutMembership, getDelivery, getSlack, getWebhook, loadMembershipContext, recordAttempts, type DeliveryRow } from './store.js';

export const WEBHOOK_EVENTS = ['segment.entered', 'segment.exited'] as const;

/** A Standard Webhooks secret: "whsec_" and base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(24).toString('base64')}`;
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed by the secret's base64-decoded bytes. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface HttpOptions { timeoutMs: number }

/** One POST with a timeout; never throws (the answer or the failure becomes an AttemptResult). */
export async function postJson(url: string, body: string, headers: Record<string, string>, opts: HttpOptions): Promise<AttemptResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'audience-gateway', ...headers },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'manual',
    });
    const text = (await res.text()).slice(0, 300);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `Answered ${res.status}${text ? `: ${text}` : ''}`, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), new Date()) };
  } catch (e) {
    const err = e as { name?: string; message?: string; cause?: { message?: string } };
    if (err.name === 'TimeoutError') return { ok: false, status: null, error: `No answer within ${opts.timeoutMs} ms` };
    return { ok: false, status: null, error: `Unreachable: ${err.cause?.message ?? err.message ?? String(e)}` };
  }
}

/** Sends a signed webhook body; `id` is the stable webhook-id (the same on every retry of one delivery). */
export function sendWebhook(url: string, secret: string, id: string, body: string, now: Date, opts: HttpOptions) {
  const timestamp = Math.floor(now.getTime() / 1000);
  return postJson(url, body, {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, id, timestamp, body),
  }, opts);
}

/** "Ada Lovelace (ada@…) entered Power Users": name and e-mail from traits, else the userId. */
export function slackText(userId: string, traits: Record<string, unknown> | null, change: 'entered' | 'exited', segmentName: string): string {
  const t = traits ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const name = str(t.name) ?? ([str(t.firstName) ?? str(t.first_name), str(t.lastName) ?? str(t.last_name)].filter(Boolean).join(' ') || undefined);
  const email = str(t.email);
  const maskedEmail = email?.includes('@') ? `${email.slice(0, email.indexOf('@') + 1)}…` : undefined;
  const who = name ? (maskedEmail ? `${name} (${maskedEmail})` : name) : maskedEmail ? `${userId} (${maskedEmail})` : userId;
  return `${who} ${change} ${segmentName}`;
}

export interface MembershipJob {
  workspaceId: string;
  segmentId: string;
  userId: string;
  change: 'entered' | 'exited';
  at: string;
  logId: string | number;
}

/** Task segment.membership: one delivery (row + job) per subscribed webhook and Slack destination, in one transaction. */
export async function fanOut(ctx: AppContext, job: MembershipJob): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const found = await loadMembershipContext(tx, job.workspaceId, job.segmentId, job.userId);
    if (!found) return 0; // the segment was deleted since
    const type = `segment.${job.change}`;
    const webhookBody = {
      type, workspaceId: job.workspaceId,
      segment: { id: job.segmentId, name: found.segment_name },
      user: { userId: job.userId, traits: found.traits ?? {} },
      at: new Date(job.at).toISOString(),
    };
    const slackBody = { text: slackText(job.userId, found.traits, job.change, found.segment_name) };
    return fanOutMembership(tx, {
      workspaceId: job.workspaceId, segmentId: job.segmentId, event: type,
      messageKey: `membership:${job.logId}`, webhookBody, slackBody,
    });
  });
}

/** Task outbound.deliver: one attempt of one webhook or Slack delivery, then its log row and, if needed, the next attempt. */
export async function deliver(ctx: AppContext, workspaceId: string, deliveryId: string, opts: HttpOptions & { retry: RetryPolicy }): Promise<void> {
  const d = await getDelivery(ctx.db, workspaceId, deliveryId);
  if (!d || d.status === 'delivered' || d.destination === 'segment') return;
  const now = queueNow();
  const result = await attempt(ctx, d, now, opts);
  const attemptNo = d.attempts + 1;
  const outcome = result === 'gone'
    ? ({ status: 'dead' } as const)
    : outcomeOf(opts.retry, result, attemptNo);
  const nextAt = outcome.status === 'retrying' ? new Date(now.getTime() + outcome.delayMs) : null;
  await recordAttempts(ctx.db, [{
    workspace_id: workspaceId, destination: d.destination, destination_id: d.destination_id, message_key: d.message_key,
    status: outcome.status, attempts: attemptNo,
    status_code: result === 'gone' ? null : result.status,
    error: result === 'gone' ? 'The destination was deleted' : result.ok ? null : result.error,
    next_attempt_at: nextAt, at: now,
  }], nextAt ? [{ task: 'outbound.deliver', payload: { workspaceId, deliveryId }, run_at: nextAt, job_key: `delivery:${deliveryId}` }] : []);
}

async function attempt(ctx: AppContext, d: DeliveryRow, now: Date, opts: HttpOptions): Promise<AttemptResult | 'gone'> {
  const body = JSON.stringify(d.payload);
  if (d.destination === 'webhook') {
    const hook = await getWebhook(ctx.db, d.workspace_id, d.destination_id!);
    if (!hook) return 'gone';
    return sendWebhook(hook.url, ctx.secrets.decrypt(hook.secret_enc), d.id, body, now, opts);
  }
  const slack = await getSlack(ctx.db, d.workspace_id, d.destination_id!);
  if (!slack) return 'gone';
  return postJson(ctx.secrets.decrypt(slack.webhook_url_enc), body, {}, opts);
}
