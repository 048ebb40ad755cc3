import { z } from 'zod';

const SegmentIds = z.array(z.uuid({ message: 'must be a segment id' })).max(50)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'a segment is listed twice' });

const noOverlap = (a: { include?: string[]; exclude?: string[] }) =>
  !(a.include ?? []).some((id) => (a.exclude ?? []).includes(id));
const overlapIssue = { message: 'a segment cannot be both included and excluded', path: ['exclude'] };

export const CreateAudience = z.strictObject({
  name: z.string().trim().min(1).max(200),
  include: SegmentIds.default([]),
  match: z.enum(['any', 'all']).default('any'),
  exclude: SegmentIds.default([]),
}).refine(noOverlap, overlapIssue);
export type CreateAudience = z.infer<typeof CreateAudience>;

export const UpdateAudience = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  include: SegmentIds.optional(),
  match: z.enum(['any', 'all']).optional(),
  exclude: SegmentIds.optional(),
});
export type UpdateAudience = z.infer<typeof UpdateAudience>;

const UserId = z.union([z.string().min(1).max(255), z.number().finite()]).transform(String);
export const BATCH_CHECK_MAX = 10_000;
export const BatchCheck = z.strictObject({
  userIds: z.array(UserId).min(1).max(BATCH_CHECK_MAX),
  /** false answers only {userId, eligible} per user (smaller answers for large batches). */
  reasons: z.boolean().default(true),
});
export type BatchCheck = z.infer<typeof BatchCheck>;

export const MembersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(400).optional(),
});
export type MembersQuery = z.infer<typeof MembersQuery>;
