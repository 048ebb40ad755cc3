import { z } from 'zod';
import { Instant } from '../lib/instant.js';

/** Segment Spec fields we read. Everything else on a message is kept verbatim in `extra`. */
const Id = z.union([z.string().max(255), z.number().finite()]).transform(String);
/**
 * A JSON object, checked without copying it: z.record would validate and rebuild every key of context and
 * properties on every message (a third of the parse time of a typical analytics.js message).
 */
const Obj = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'must be a JSON object' });

export const SegmentMessage = z.looseObject({
  type: z.string().min(1).max(50),
  userId: Id.nullish(),
  anonymousId: Id.nullish(),
  messageId: z.string().max(100).nullish(),
  timestamp: Instant.nullish(),
  originalTimestamp: Instant.nullish(),
  sentAt: Instant.nullish(),
  receivedAt: Instant.nullish(),
  context: Obj.nullish(),
  integrations: Obj.nullish(),
  traits: Obj.nullish(),
  properties: Obj.nullish(),
  event: z.string().max(500).nullish(),
  groupId: Id.nullish(),
});
export type SegmentMessage = z.infer<typeof SegmentMessage>;

export const BatchBody = z.looseObject({
  batch: z.array(z.unknown()).max(10_000),
  context: Obj.nullish(),
  integrations: Obj.nullish(),
  sentAt: z.unknown().optional(),
  writeKey: z.string().optional(),
});

export const SUPPORTED_TYPES = ['identify', 'track', 'group'] as const;
export type SupportedType = (typeof SUPPORTED_TYPES)[number];

export const KNOWN_FIELDS = new Set([
  'type', 'userId', 'anonymousId', 'messageId', 'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt',
  'context', 'integrations', 'traits', 'properties', 'event', 'groupId', 'writeKey',
]);
