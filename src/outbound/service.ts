import crypto from 'node:crypto';
import type { AppContext } from '../http/context.js';
import type { Db } from '../db/types.js';
import { HttpError, notFound } from '../http/errors.js';
import { maskSecret } from '../lib/crypto.js';
import type { CreateSlack, CreateWebhook, PutSegmentIntegration } from './schema.js';
import { SegmentClients } from './segment-client.js';
import { segmentJobKey } from './segment-push.js';
import { queueNow, type AttemptResult } from './retry.js';
import {
  addKeyedJobs, getSegmentIntegration, insertSlack, insertWebhook, resetDelivery, responseIdsBetween, upsertSegmentIntegration,
  getWebhook, getSlack, type DeliveryRow,
} from './store.js';
import { generateWebhookSecret, postJson, sendWebhook } from './webhooks.js';

const TEST_TIMEOUT_MS = 10_000;

async function assertOwned(db: Db, table: 'surveys' | 'segments', workspaceId: string, ids: string[], field: string) {
  if (!ids.length) return;
  const found = await db(table).where({ workspace_id: workspaceId }).whereIn('id', ids).pluck('id');
  const missing = ids.filter((id) => !found.includes(id));
  if (missing.length) throw new HttpError(400, 'invalid', `Unknown ${table} in ${field}: ${missing.join(', ')}`, missing.map((id) => ({ path: field, message: `unknown ${id}` })));
}

export async function configureSegment(ctx: AppContext, workspaceId: string, body: PutSegmentIntegration) {
  const current = await getSegmentIntegration(ctx.db, workspaceId);
  if (!current && !body.writeKey) throw new HttpError(400, 'invalid', 'writeKey is required to set up the integration', [{ path: 'writeKey', message: 'required' }]);
  if (body.surveyIds) await assertOwned(ctx.db, 'surveys', workspaceId, body.surveyIds, 'surveyIds');
  return upsertSegmentIntegration(ctx.db, {
    workspace_id: workspaceId,
    write_key_enc: body.writeKey ? ctx.secrets.encrypt(body.writeKey) : current!.write_key_enc,
    write_key_hint: body.writeKey ? maskSecret(body.writeKey) : current!.write_key_hint,
    enabled: body.enabled,
    survey_ids: body.surveyIds === undefined ? (current?.survey_ids ?? null) : body.surveyIds,
    trait_prefix: body.traitPrefix ?? current?.trait_prefix ?? 'survey_',
    events: { ...(current?.events ?? {}), ...(body.events ?? {}) },
    track_seen: body.trackSeen ?? current?.track_seen ?? false,
    track_dismissed: body.trackDismissed ?? current?.track_dismissed ?? false,
  }, ctx.clock.now());
}

export interface TestAnswer { ok: boolean; status: number | null; message: string }
const answerOf = (r: AttemptResult): TestAnswer => (r.ok ? { ok: true, status: r.status, message: 'Accepted' } : { ok: false, status: r.status, message: r.error });

/** Sends one identify with the stored write key and reports Segment's answer. */
export async function testSegment(ctx: AppContext, workspaceId: string, userId = 'audience-gateway-test'): Promise<TestAnswer> {
  const integration = await getSegmentIntegration(ctx.db, workspaceId);
  if (!integration) throw notFound('Segment integration');
  // A client of its own that sends at once (one call per request), outside the outbox.
  const clients = new SegmentClients({ host: ctx.config.SEGMENT_API_HOST, flushAt: 1, flushIntervalMs: 10, timeoutMs: TEST_TIMEOUT_MS });
  const [result] = await clients.send(ctx.secrets.decrypt(integration.write_key_enc), [{
    type: 'identify', messageId: `test-${crypto.randomUUID()}`, userId, timestamp: ctx.clock.now(),
    traits: { [`${integration.trait_prefix}connection_test_at`]: ctx.clock.now().toISOString() },
  }]).finally(() => clients.close());
  return answerOf(result);
}

/** Re-enqueues the push of stored responses completed in [from, to); the same messageIds as the first push. */
export async function replaySegment(ctx: AppContext, workspaceId: string, r: { from: string; to: string; surveyIds?: string[] }) {
  if (!(await getSegmentIntegration(ctx.db, workspaceId))) throw notFound('Segment integration');
  return ctx.db.transaction(async (tx) => {
    const ids = await responseIdsBetween(tx, workspaceId, new Date(r.from), new Date(r.to), r.surveyIds);
    await addKeyedJobs(tx, ids.map((id) => ({
      task: 'segment.push-response', payload: { workspaceId, responseId: id }, run_at: queueNow(), job_key: segmentJobKey('response', id),
    })));
    await tx('deliveries').where({ workspace_id: workspaceId, destination: 'segment' })
      .whereIn('message_key', ids.map((id) => `response:${id}`)).update({ status: 'pending', attempts: 0, updated_at: queueNow() });
    return ids.length;
  });
}

/** Puts a delivery back in the queue with a fresh retry budget (dead ones included). */
export async function replayDelivery(ctx: AppContext, workspaceId: string, id: string): Promise<DeliveryRow> {
  return ctx.db.transaction(async (tx) => {
    const d = await resetDelivery(tx, workspaceId, id, queueNow());
    if (!d) throw notFound('Delivery');
    const [kind, messageId] = d.message_key.split(':', 2) as [string, string];
    const job = d.destination !== 'segment'
      ? { task: 'outbound.deliver', payload: { workspaceId, deliveryId: d.id }, job_key: `delivery:${d.id}` }
      : kind === 'interaction'
        ? { task: 'segment.push-interaction', payload: { workspaceId, interactionId: messageId }, job_key: segmentJobKey('interaction', messageId) }
        : { task: 'segment.push-response', payload: { workspaceId, responseId: messageId }, job_key: segmentJobKey('response', messageId) };
    await addKeyedJobs(tx, [{ ...job, run_at: queueNow() }]);
    return d;
  });
}

export async function createWebhook(ctx: AppContext, workspaceId: string, body: CreateWebhook) {
  await assertOwned(ctx.db, 'segments', workspaceId, body.segmentIds, 'segmentIds');
  const secret = body.secret ?? generateWebhookSecret();
  const row = await insertWebhook(ctx.db, {
    workspace_id: workspaceId, url: body.url, segment_ids: [...new Set(body.segmentIds)], events: [...new Set(body.events)], secret_enc: ctx.secrets.encrypt(secret),
  });
  return { row, secret };
}

/** Sends a signed sample event to the webhook now (not through the outbox) and reports the answer. */
export async function testWebhook(ctx: AppContext, workspaceId: string, id: string): Promise<TestAnswer> {
  const hook = await getWebhook(ctx.db, workspaceId, id);
  if (!hook) throw notFound('Webhook');
  const now = queueNow();
  const body = JSON.stringify({ type: 'webhook.test', workspaceId, segment: null, user: null, at: now.toISOString() });
  return answerOf(await sendWebhook(hook.url, ctx.secrets.decrypt(hook.secret_enc), `test_${crypto.randomUUID()}`, body, now, { timeoutMs: TEST_TIMEOUT_MS }));
}

export async function createSlack(ctx: AppContext, workspaceId: string, body: CreateSlack) {
  await assertOwned(ctx.db, 'segments', workspaceId, body.segmentIds, 'segmentIds');
  return insertSlack(ctx.db, {
    workspace_id: workspaceId, webhook_url_enc: ctx.secrets.encrypt(body.webhookUrl), webhook_url_hint: slackUrlHint(body.webhookUrl),
    segment_ids: [...new Set(body.segmentIds)], events: [...new Set(body.events)],
  });
}

/** "https://hooks.slack.com/services/T000…/…XXXX": the host and the ends of the path, never the token. */
function slackUrlHint(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}/${maskSecret(u.pathname.slice(1))}`;
}

export async function testSlack(ctx: AppContext, workspaceId: string, id: string): Promise<TestAnswer> {
  const slack = await getSlack(ctx.db, workspaceId, id);
  if (!slack) throw notFound('Slack destination');
  const body = JSON.stringify({ text: 'Audience Gateway is connected: segment entries will be posted here.' });
  return answerOf(await postJson(ctx.secrets.decrypt(slack.webhook_url_enc), body, {}, { timeoutMs: TEST_TIMEOUT_MS }));
}
