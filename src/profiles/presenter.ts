import type { UserProfileRow } from './queries.js';

export function presentUser(u: UserProfileRow, everyoneSegmentIds: string[] = []) {
  return {
    userId: u.user_id,
    traits: u.traits,
    accounts: u.accounts,
    firstSeenAt: u.first_seen_at,
    lastSeenAt: u.last_seen_at,
    lastSurveyResponseAt: u.last_survey_response_at,
    segments: [...u.segments.map((s) => s.segmentId), ...everyoneSegmentIds],
    segmentEntries: u.segments,
  };
}
