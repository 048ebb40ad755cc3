/**
 * What happened to one delivery attempt, and when to try again. The outbox (graphile-worker) runs the attempts;
 * this policy decides between delivered, retry-later and dead.
 */
export type AttemptResult =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs?: number };

export interface RetryPolicy {
  /** Attempts before a retryable failure becomes dead. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 12, baseDelayMs: 5_000, maxDelayMs: 6 * 3600_000 };

/** 4xx other than 408 and 429 is the receiver telling us the message will never be accepted: no retry. */
export function isPermanent(result: AttemptResult): boolean {
  if (result.ok || result.status === null) return false;
  return result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429;
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay fixed, half random, so a burst of failures
 * spreads out instead of retrying in lockstep. A Retry-After from the receiver is honoured (plus up to 1 s of jitter).
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  if (retryAfterMs !== undefined) return Math.round(retryAfterMs + random() * Math.min(1000, retryAfterMs / 10));
  return Math.round(jittered);
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. Capped at one hour. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const cap = 3600_000;
  if (/^\s*\d+\s*$/.test(value)) return Math.min(cap, Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.min(cap, Math.max(0, at - now.getTime()));
}

export type Outcome =
  | { status: 'delivered' }
  | { status: 'retrying'; delayMs: number }
  | { status: 'dead' };

/** attempt = the number of this attempt (1 for the first). */
export function outcomeOf(policy: RetryPolicy, result: AttemptResult, attempt: number): Outcome {
  if (result.ok) return { status: 'delivered' };
  if (isPermanent(result) || attempt >= policy.maxAttempts) return { status: 'dead' };
  return { status: 'retrying', delayMs: retryDelayMs(policy, attempt, result.retryAfterMs) };
}

/**
 * The outbox's time: wall-clock, not ctx.clock. graphile-worker compares run_at with PostgreSQL's now(), and
 * receivers check webhook-timestamp against their own clock, so delivery times must be real.
 */
export const queueNow = () => new Date();
