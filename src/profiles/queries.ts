import type { Db } from '../db/types.js';

/** How much history the user page shows: the newest rows of each kind. */
export const RECENT_EVENTS = 50;
export const RECENT_RESPONSES = 50;
export const RECENT_MEMBERSHIP_CHANGES = 100;

type Timestamp = string | Date;

/** The columns every user listing reads (the directory and the user page). */
export interface UserCoreRow {
  user_id: string;
  traits: Record<string, unknown>;
  email: string | null;
  name: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  last_survey_response_at: Date | null;
}

export interface UserProfileRow extends UserCoreRow {
  accounts: { groupId: string; traits: Record<string, unknown>; joinedAt: Timestamp }[];
  segments: { segmentId: string; name: string; type: string; status: string; enteredAt: Timestamp }[];
  recent_events: { id: number; type: string; event: string | null; properties: unknown; traits: unknown; groupId: string | null; timestamp: Timestamp }[];
  responses: { id: string; surveyId: string; surveyName: string; answers: Record<string, unknown>; completedAt: Timestamp }[];
  membership_log: { id: number; segmentId: string; segmentName: string; change: string; cause: string; at: Timestamp }[];
}

/**
 * One user with accounts, current segments (entry times; `everyone` segments count from when the user was
 * stored), recent events, survey responses and membership changes: a single round trip, each part an index
 * range read bounded by its limit.
 */
export async function getUserProfile(db: Db, workspaceId: string, userId: string): Promise<UserProfileRow | undefined> {
  const { rows } = await db.raw(
    `select u.user_id, u.traits, u.traits ->> 'email' as email, ag_user_name(u.traits) as name,
            u.first_seen_at, u.last_seen_at, u.last_survey_response_at,
            coalesce((select json_agg(json_build_object('groupId', a.group_id, 'traits', a.traits, 'joinedAt', m.joined_at) order by m.joined_at)
                        from account_members m join accounts a on a.workspace_id = m.workspace_id and a.group_id = m.group_id
                       where m.workspace_id = u.workspace_id and m.user_id = u.user_id), '[]') as accounts,
            coalesce((select json_agg(json_build_object('segmentId', x.id, 'name', x.name, 'type', x.type, 'status', x.status, 'enteredAt', x.entered_at)
                                      order by x.everyone, x.entered_at, x.id)
                        from (select s.id, s.name, s.type, s.status, sm.entered_at, false as everyone
                                from segment_members sm join segments s on s.workspace_id = sm.workspace_id and s.id = sm.segment_id
                               where sm.workspace_id = u.workspace_id and sm.user_id = u.user_id and s.status <> 'archived' and s.type <> 'everyone'
                              union all
                              select s.id, s.name, s.type, s.status, u.created_at, true
                                from segments s
                               where s.workspace_id = u.workspace_id and s.type = 'everyone' and s.status in ('active', 'paused')) x), '[]') as segments,
            coalesce((select json_agg(json_build_object('id', e.id, 'type', e.type, 'event', e.event, 'properties', e.properties,
                                                        'traits', e.traits, 'groupId', e.group_id, 'timestamp', e.timestamp)
                                      order by e.timestamp desc, e.id desc)
                        from (select * from events e where e.workspace_id = u.workspace_id and e.user_id = u.user_id
                               order by e.timestamp desc, e.id desc limit ${RECENT_EVENTS}) e), '[]') as recent_events,
            coalesce((select json_agg(json_build_object('id', r.id, 'surveyId', r.survey_id, 'surveyName', s.name, 'answers', r.answers,
                                                        'completedAt', r.completed_at)
                                      order by r.completed_at desc, r.id)
                        from (select * from survey_responses r where r.workspace_id = u.workspace_id and r.user_id = u.user_id
                               order by r.completed_at desc, r.id limit ${RECENT_RESPONSES}) r
                        join surveys s on s.workspace_id = r.workspace_id and s.id = r.survey_id), '[]') as responses,
            coalesce((select json_agg(json_build_object('id', l.id, 'segmentId', l.segment_id, 'segmentName', s.name, 'change', l.change,
                                                        'cause', l.cause, 'at', l.at)
                                      order by l.at desc, l.id desc)
                        from (select * from membership_log l where l.workspace_id = u.workspace_id and l.user_id = u.user_id
                               order by l.at desc, l.id desc limit ${RECENT_MEMBERSHIP_CHANGES}) l
                        join segments s on s.workspace_id = l.workspace_id and s.id = l.segment_id), '[]') as membership_log
       from users u where u.workspace_id = ? and u.user_id = ?`,
    [workspaceId, userId],
  );
  return rows[0];
}
