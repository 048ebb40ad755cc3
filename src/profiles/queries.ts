import type { Db } from '../db/types.js';

export interface UserProfileRow {
  user_id: string;
  traits: Record<string, unknown>;
  first_seen_at: Date;
  last_seen_at: Date;
  last_survey_response_at: Date | null;
  accounts: { groupId: string; traits: Record<string, unknown>; joinedAt: string }[];
  segments: { segmentId: string; enteredAt: string }[];
}

/** One user with accounts and current segments, in a single round trip. */
export async function getUserProfile(db: Db, workspaceId: string, userId: string): Promise<UserProfileRow | undefined> {
  const { rows } = await db.raw(
    `select u.user_id, u.traits, u.first_seen_at, u.last_seen_at, u.last_survey_response_at,
            coalesce((select json_agg(json_build_object('groupId', a.group_id, 'traits', a.traits, 'joinedAt', m.joined_at) order by m.joined_at)
                        from account_members m join accounts a on a.workspace_id = m.workspace_id and a.group_id = m.group_id
                       where m.workspace_id = u.workspace_id and m.user_id = u.user_id), '[]') as accounts,
            coalesce((select json_agg(json_build_object('segmentId', sm.segment_id, 'enteredAt', sm.entered_at) order by sm.entered_at)
                        from segment_members sm join segments s on s.workspace_id = sm.workspace_id and s.id = sm.segment_id
                       where sm.workspace_id = u.workspace_id and sm.user_id = u.user_id and s.status <> 'archived'), '[]') as segments
       from users u where u.workspace_id = ? and u.user_id = ?`,
    [workspaceId, userId],
  );
  return rows[0];
}
