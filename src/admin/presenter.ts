import type { MembershipLogRow, RecentEventRow, SizeHistoryRow } from './store.js';

export function presentRecentEvent(e: RecentEventRow) {
  return {
    id: String(e.id),
    type: e.type,
    messageId: e.message_id,
    userId: e.user_id,
    anonymousId: e.anonymous_id,
    event: e.event,
    groupId: e.group_id,
    timestamp: e.timestamp,
    receivedAt: e.received_at,
  };
}

export function presentLogEntry(l: MembershipLogRow) {
  return { id: String(l.id), userId: l.user_id, change: l.change, cause: l.cause, at: l.at };
}

export function presentSizePoint(p: SizeHistoryRow) {
  return { at: p.at, size: p.size, entered: p.entered, exited: p.exited, cause: p.cause };
}
