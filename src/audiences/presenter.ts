import type { Response } from 'express';
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

const serialised = new WeakMap<object, string>();

/** res.json, for answers shared between checks (frozen, see Decider): each one is serialised once. */
export function sendShared(res: Response, value: object) {
  if (!Object.isFrozen(value)) return void res.json(value);
  let body = serialised.get(value);
  if (body === undefined) serialised.set(value, (body = JSON.stringify(value)));
  res.set('Content-Type', 'application/json').send(body);
}
