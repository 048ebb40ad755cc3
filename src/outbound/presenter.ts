import { DEFAULT_EVENTS } from './segment-push.js';
import type { DeliveryRow, SegmentIntegrationRow, SlackRow, WebhookRow } from './store.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** Never the write key: only its hint. */
export function presentSegmentIntegration(i: SegmentIntegrationRow) {
  return {
    enabled: i.enabled,
    writeKeyHint: i.write_key_hint,
    surveyIds: i.survey_ids,
    traitPrefix: i.trait_prefix,
    events: { ...DEFAULT_EVENTS, ...i.events },
    trackSeen: i.track_seen,
    trackDismissed: i.track_dismissed,
    updatedAt: iso(i.updated_at),
  };
}

/** The secret appears only in the answer to the POST that created it (`secret` argument). */
export function presentWebhook(w: WebhookRow, secret?: string) {
  return {
    id: w.id, url: w.url, segmentIds: w.segment_ids, events: w.events, createdAt: iso(w.created_at),
    ...(secret ? { secret } : {}),
  };
}

export function presentSlack(s: SlackRow) {
  return { id: s.id, webhookUrlHint: s.webhook_url_hint, segmentIds: s.segment_ids, events: s.events, createdAt: iso(s.created_at) };
}

export function presentDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    destination: d.destination,
    destinationId: d.destination_id,
    messageKey: d.message_key,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    nextAttemptAt: d.status === 'retrying' ? iso(d.next_attempt_at) : null,
    lastAttemptAt: iso(d.last_attempt_at),
    deliveredAt: iso(d.delivered_at),
    createdAt: iso(d.created_at),
    updatedAt: iso(d.updated_at),
    payload: d.payload ?? null,
  };
}

export const encodeCursor = (d: { cursor_at: string; id: string }) => Buffer.from(`${d.cursor_at}|${d.id}`).toString('base64url');
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!createdAt || !id || Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return { createdAt, id };
}
