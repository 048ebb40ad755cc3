import crypto from 'node:crypto';
import { SegmentMessage, KNOWN_FIELDS, SUPPORTED_TYPES, type SupportedType } from './schema.js';
import { inRange } from '../lib/instant.js';

/** A validated message ready to be written. */
export interface IngestMessage {
  workspaceId: string;
  messageId: string;
  type: SupportedType;
  userId: string | null;
  anonymousId: string | null;
  event: string | null;
  groupId: string | null;
  properties: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
  context: Record<string, unknown> | null;
  integrations: Record<string, unknown> | null;
  extra: Record<string, unknown> | null;
  timestamp: Date;
  originalTimestamp: Date | null;
  sentAt: Date | null;
  receivedAt: Date;
}

export type Rejection = { code: 'not_supported' | 'invalid'; message: string; issues?: { path: string; message: string }[] };
export type Normalized = { ok: true; message: IngestMessage } | { ok: false; rejection: Rejection };

const nonEmpty = (v: string | null | undefined) => (v === undefined || v === null || v === '' ? null : v);

/**
 * Validates one Segment message and resolves its event time the way Segment does: an explicit
 * `timestamp` wins; otherwise `originalTimestamp` corrected for the client's clock skew (sentAt vs receivedAt).
 */
export function normalizeMessage(raw: unknown, workspaceId: string, receivedAt: Date, impliedType?: string): Normalized {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, rejection: { code: 'invalid', message: 'A message must be a JSON object' } };
  }
  const input = impliedType && (raw as { type?: unknown }).type === undefined ? { ...raw, type: impliedType } : raw;
  const parsed = SegmentMessage.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(message)', message: i.message }));
    return { ok: false, rejection: { code: 'invalid', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues } };
  }
  const m = parsed.data;
  const type = m.type.toLowerCase();
  if (!(SUPPORTED_TYPES as readonly string[]).includes(type)) {
    return { ok: false, rejection: { code: 'not_supported', message: `Audience Gateway does not support "${m.type}" calls; it stores identify, group and track.` } };
  }
  const userId = nonEmpty(m.userId);
  const anonymousId = nonEmpty(m.anonymousId);
  const problems: { path: string; message: string }[] = [];
  if (!userId && !anonymousId) problems.push({ path: 'userId', message: `${type} needs a userId or an anonymousId` });
  if (type === 'track' && !nonEmpty(m.event)) problems.push({ path: 'event', message: 'track needs an event name' });
  if (type === 'group' && !nonEmpty(m.groupId)) problems.push({ path: 'groupId', message: 'group needs a groupId' });
  if (problems.length) {
    return { ok: false, rejection: { code: 'invalid', message: problems.map((p) => p.message).join('; '), issues: problems } };
  }

  const extra: Record<string, unknown> = Object.create(null); // no prototype: keys like "__proto__" stay plain data
  for (const [k, v] of Object.entries(m)) if (!KNOWN_FIELDS.has(k)) extra[k] = v;

  let timestamp = m.timestamp ?? null;
  if (!timestamp && m.originalTimestamp) {
    const corrected = m.sentAt ? receivedAt.getTime() - (m.sentAt.getTime() - m.originalTimestamp.getTime()) : NaN;
    // A skew that pushes the instant out of range says the client's clock is nonsense: keep what it sent.
    timestamp = inRange(corrected) ? new Date(corrected) : m.originalTimestamp;
  }
  return {
    ok: true,
    message: {
      workspaceId,
      messageId: nonEmpty(m.messageId) ?? `ag-${crypto.randomUUID()}`,
      type: type as SupportedType,
      userId,
      anonymousId,
      event: type === 'track' ? (m.event as string) : null,
      groupId: type === 'group' ? (m.groupId as string) : null,
      properties: m.properties ?? null,
      traits: m.traits ?? null,
      context: m.context ?? null,
      integrations: m.integrations ?? null,
      extra: Object.keys(extra).length ? extra : null,
      timestamp: timestamp ?? receivedAt,
      originalTimestamp: m.originalTimestamp ?? null,
      sentAt: m.sentAt ?? null,
      receivedAt,
    },
  };
}
