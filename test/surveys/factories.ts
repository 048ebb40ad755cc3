import type { Knex } from 'knex';

/** Segments and members written directly (the segment engine lands separately). */
export async function aSegment(db: Knex, workspaceId: string, opts: { name?: string; type?: 'dynamic' | 'static' | 'everyone'; status?: 'draft' | 'active' | 'paused' | 'archived'; members?: string[] } = {}) {
  const [row] = await db('segments')
    .insert({ workspace_id: workspaceId, name: opts.name ?? 'Segment', type: opts.type ?? 'static', status: opts.status ?? 'active' })
    .returning(['id']);
  if (opts.members?.length) {
    await db('segment_members').insert(opts.members.map((user_id) => ({ workspace_id: workspaceId, segment_id: row.id, user_id })));
  }
  return row.id as string;
}

export async function someUsers(db: Knex, workspaceId: string, userIds: string[]) {
  const now = new Date();
  await db('users')
    .insert(userIds.map((user_id) => ({ workspace_id: workspaceId, user_id, first_seen_at: now, last_seen_at: now })))
    .onConflict(['workspace_id', 'user_id']).ignore();
}

export const npsSurvey = {
  name: 'Product NPS',
  questions: [
    { id: 'nps', type: 'nps', label: 'How likely are you to recommend us?' },
    { id: 'ease', type: 'rating', label: 'How easy was it?', scale: { min: 1, max: 5 } },
    { id: 'plan', type: 'single_choice', label: 'Your plan', choices: ['free', 'pro', 'enterprise'] },
    { id: 'uses', type: 'multiple_choice', label: 'What do you use?', choices: ['reports', 'alerts', 'api'] },
    { id: 'why', type: 'text', label: 'Why?' },
  ],
};
