import { z } from 'zod';
import { WEBHOOK_EVENTS } from './webhooks.js';

const EventName = z.string().trim().min(1).max(200);

/** PUT .../integrations/segment (CONTRACT §2). writeKey is required the first time, optional afterwards. */
export const PutSegmentIntegration = z.object({
  writeKey: z.string().trim().min(1).max(500).optional(),
  enabled: z.boolean(),
  surveyIds: z.array(z.uuid()).max(1000).nullable().optional(),
  traitPrefix: z.string().max(50).regex(/^[A-Za-z0-9_.$-]*$/, 'letters, digits, _ . $ - only').optional(),
  events: z.object({ completed: EventName.optional(), seen: EventName.optional(), dismissed: EventName.optional() }).strict().optional(),
  trackSeen: z.boolean().optional(),
  trackDismissed: z.boolean().optional(),
}).strict();
export type PutSegmentIntegration = z.infer<typeof PutSegmentIntegration>;

export const TestSegment = z.object({ userId: z.string().min(1).max(200).optional() }).strict();

export const ReplaySegment = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  surveyIds: z.array(z.uuid()).max(1000).optional(),
}).strict().refine((r) => new Date(r.from) < new Date(r.to), { message: 'from must be before to', path: ['to'] });

const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);
const SegmentIds = z.array(z.uuid()).min(1).max(100);

export const CreateWebhook = z.object({
  url: HttpUrl,
  segmentIds: SegmentIds,
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default(['segment.entered', 'segment.exited']),
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'a Standard Webhooks secret: whsec_ and base64 of 24 to 64 bytes').optional(),
}).strict();
export type CreateWebhook = z.infer<typeof CreateWebhook>;

export const CreateSlack = z.object({
  webhookUrl: HttpUrl,
  segmentIds: SegmentIds,
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).default(['segment.entered']),
}).strict();
export type CreateSlack = z.infer<typeof CreateSlack>;

export const DeliveriesQuery = z.object({
  destination: z.union([z.enum(['segment', 'webhook', 'slack']), z.uuid()]).optional(),
  status: z.enum(['pending', 'delivered', 'retrying', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type DeliveriesQuery = z.infer<typeof DeliveriesQuery>;
