import type { AudienceRow } from './store.js';

export function presentAudience(a: AudienceRow, extra: { size?: number } = {}) {
  return {
    id: a.id,
    name: a.name,
    include: a.include,
    match: a.match,
    exclude: a.exclude,
    createdAt: a.created_at,
    updatedAt: a.updated_at,
    ...extra,
  };
}
