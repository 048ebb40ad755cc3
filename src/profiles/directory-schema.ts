import { z } from 'zod';

export const SORT_KEYS = ['lastSeenAt', 'firstSeenAt', 'lastSurveyResponseAt'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

const days = z.coerce.number().int().min(1).max(36_500);

/** `GET .../users` query string. */
export const UserListQuery = z.object({
  q: z.string().max(200).optional(),
  segmentId: z.string().optional(),
  seenWithinDays: days.optional(),
  respondedWithinDays: days.optional(),
  sort: z.enum(SORT_KEYS).default('lastSeenAt'),
  order: z.enum(['desc', 'asc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(2000).optional(),
});
export type UserListQuery = z.infer<typeof UserListQuery>;
