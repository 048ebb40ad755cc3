import type { SegmentRow } from './store.js';
import type { EvaluationResult } from './evaluate.js';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export function presentSegment(s: SegmentRow, extra: { size?: number; evaluation?: EvaluationResult } = {}) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    type: s.type,
    status: s.status,
    definition: s.definition,
    schedule: s.schedule,
    lastEvaluatedAt: iso(s.last_evaluated_at),
    createdAt: iso(s.created_at),
    updatedAt: iso(s.updated_at),
    ...(extra.size !== undefined ? { size: extra.size } : {}),
    ...(extra.evaluation ? { evaluation: extra.evaluation } : {}),
  };
}

export const encodeCursor = (userId: string) => Buffer.from(userId, 'utf8').toString('base64url');
export const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export function presentMembers(rows: { user_id: string; entered_at: Date }[], limit: number) {
  return {
    members: rows.map((r) => ({ userId: r.user_id, enteredAt: iso(r.entered_at) })),
    nextCursor: rows.length === limit ? encodeCursor(rows[rows.length - 1].user_id) : null,
  };
}

export function presentHistory(rows: { at: Date; size: number; entered: number; exited: number; cause: string }[]) {
  return { history: rows.map((r) => ({ at: iso(r.at), size: r.size, entered: r.entered, exited: r.exited, cause: r.cause })) };
}
