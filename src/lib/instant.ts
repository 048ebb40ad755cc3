import { z } from 'zod';

/** Years 1–9999: what ISO-8601 writes with four digits, and well inside what PostgreSQL's timestamptz holds. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

export function inRange(ms: number): boolean {
  return ms >= EARLIEST && ms <= LATEST;
}

/** A client-sent time: an ISO-8601 string or epoch milliseconds. */
export const Instant = z.union([z.string(), z.number()]).refine((v) => inRange(new Date(v).getTime()), {
  message: 'must be an ISO-8601 date between the years 1 and 9999',
}).transform((v) => new Date(v));
