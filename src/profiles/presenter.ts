import type { UserProfileRow } from './queries.js';
import type { DirectoryPage, DirectoryRow } from './directory.js';

/** Timestamps built inside SQL JSON arrive as strings with an offset; everything leaves as ISO 8601 UTC. */
const iso = (t: string | Date) => new Date(t).toISOString();
const isoOrNull = (t: string | Date | null) => (t === null ? null : iso(t));

/** `GET .../users/:userId`. The first seven fields are the contract; the rest were added for the user page. */
export function presentUser(u: UserProfileRow) {
  return {
    userId: u.user_id,
    traits: u.traits,
    accounts: u.accounts.map((a) => ({ groupId: a.groupId, traits: a.traits, joinedAt: iso(a.joinedAt) })),
    firstSeenAt: iso(u.first_seen_at),
    lastSeenAt: iso(u.last_seen_at),
    lastSurveyResponseAt: isoOrNull(u.last_survey_response_at),
    segments: u.segments.map((s) => s.segmentId),
    email: u.email,
    name: u.name,
    segmentEntries: u.segments.map((s) => ({ segmentId: s.segmentId, name: s.name, type: s.type, status: s.status, enteredAt: iso(s.enteredAt) })),
    recentEvents: u.recent_events.map((e) => ({
      id: e.id, type: e.type, event: e.event, properties: e.properties, traits: e.traits, groupId: e.groupId, timestamp: iso(e.timestamp),
    })),
    responses: u.responses.map((r) => ({ id: r.id, surveyId: r.surveyId, surveyName: r.surveyName, answers: r.answers, completedAt: iso(r.completedAt) })),
    membershipLog: u.membership_log.map((l) => ({
      id: l.id, segmentId: l.segmentId, segmentName: l.segmentName, change: l.change, cause: l.cause, at: iso(l.at),
    })),
  };
}

function presentDirectoryRow(u: DirectoryRow) {
  return {
    userId: u.user_id,
    email: u.email,
    name: u.name,
    traits: u.traits,
    firstSeenAt: iso(u.first_seen_at),
    lastSeenAt: iso(u.last_seen_at),
    lastSurveyResponseAt: isoOrNull(u.last_survey_response_at),
    segments: u.segment_ids,
  };
}

/** `GET .../users`. */
export function presentDirectoryPage(page: DirectoryPage) {
  return {
    users: page.users.map(presentDirectoryRow),
    nextCursor: page.nextCursor,
    total: page.total,
    totalIsEstimate: page.totalIsEstimate,
  };
}
