import type { Knex } from 'knex';
import type { AppContext } from '../http/context.js';
import type { Loop } from '../worker-registry.js';
import { addMembershipEffects } from '../outbound/store.js';
import { logger } from '../lib/logger.js';
import { compilePredicate } from './compile.js';
import type { Frag } from './sql.js';
import { indexKeysFor, inputsOf, newUserMayMatch, topologicalLevels } from './dependencies.js';
import { withRetry } from './evaluate.js';
import { claimDirty, releaseClaims, takeClaims, type DirtyEntry } from './dirty.js';
import { activeDynamicSegments, applyLevel, segmentTypes, type MembershipChange, type SegmentRow } from './store.js';

type DirtyRow = DirtyEntry;

/** The effect job the outbound area delivers (briefing: cross-area contracts). */
export interface MembershipJob { workspaceId: string; segmentId: string; userId: string; change: 'entered' | 'exited'; at: string; logId: number }

/**
 * An index from inputs ('trait:plan', 'event:Signed Up', 'segment:<id>', ...) to the segments that read them; 'new'
 * (a user created just now) stands for the segments an empty user may match, '*' for all.
 */
class InputIndex {
  private byInput = new Map<string, Set<string>>();
  private forNewUsers: string[];
  constructor(readonly segments: SegmentRow[], types: Map<string, string>) {
    for (const s of segments) {
      for (const input of inputsOf(s.definition!)) {
        let set = this.byInput.get(input);
        if (!set) this.byInput.set(input, (set = new Set()));
        set.add(s.id);
      }
    }
    this.forNewUsers = segments.filter((s) => newUserMayMatch(s.definition!, types)).map((s) => s.id);
  }
  segmentsFor(input: string): Iterable<string> {
    if (input === '*') return this.segments.map((s) => s.id);
    if (input === 'new') return this.forNewUsers;
    return indexKeysFor(input).flatMap((k) => [...(this.byInput.get(k) ?? [])]);
  }
}

/**
 * Takes one batch of dirty users and re-checks, for each, the active dynamic segments whose inputs changed, with the
 * same compiler as full evaluation (restricted to each user). The batch is claimed first in a statement of its own
 * (see ag_claim_dirty: ingest never waits for an evaluation); the claims are released in the transaction that writes
 * the diff, logs it (cause incremental) and adds the `segment.membership` effect jobs (for the changes a webhook or
 * Slack destination subscribes to), or put back if it fails.
 * Returns how many dirty users it took.
 */
export async function evaluateDirtyBatch(db: Knex, now: Date, batchSize = 500, opts: { recoverAfterSeconds?: number } = {}): Promise<number> {
  const claimed = await claimDirty(db, batchSize, opts.recoverAfterSeconds);
  if (!claimed.length) return 0;
  try {
    await withRetry(() => db.transaction((trx) => evaluateClaimed(trx, claimed, now)));
  } catch (e) {
    await releaseClaims(db, claimed).catch((err) => logger.error({ err }, 'could not put claimed dirty users back (recovered after the claim timeout)'));
    throw e;
  }
  return claimed.length;
}

async function evaluateClaimed(trx: Knex.Transaction, claimed: DirtyRow[], now: Date): Promise<void> {
  const dirty = await takeClaims(trx, claimed);
  if (!dirty.length) return;
  // The level statement's estimated cost counts every segment's subqueries for every pair (a CASE runs only one):
  // above jit_above_cost PostgreSQL would spend seconds compiling a statement that runs in milliseconds.
  await trx.raw('set local jit = off');
  const byWorkspace = new Map<string, DirtyRow[]>();
  for (const r of dirty) {
    const list = byWorkspace.get(r.workspace_id);
    if (list) list.push(r);
    else byWorkspace.set(r.workspace_id, [r]);
  }
  const segments = await activeDynamicSegments(trx, [...byWorkspace.keys()]);
  const changes: Change[] = [];
  for (const [workspaceId, users] of byWorkspace) {
    const mine = segments.filter((s) => s.workspace_id === workspaceId);
    if (mine.length) changes.push(...await evaluateUsers(trx, workspaceId, mine, users, now));
  }
  const jobs: MembershipJob[] = changes.map((c) => ({
    workspaceId: c.workspace_id,
    segmentId: c.segment_id,
    userId: c.user_id,
    change: c.change,
    at: new Date(c.at).toISOString(),
    logId: Number(c.id),
  }));
  await addMembershipEffects(trx, jobs);
}

type Change = MembershipChange & { workspace_id: string };

async function evaluateUsers(trx: Knex.Transaction, workspaceId: string, segments: SegmentRow[], users: DirtyRow[], now: Date): Promise<Change[]> {
  const types = await segmentTypes(trx, workspaceId);
  const index = new InputIndex(segments, types);
  const candidates = new Map<string, Set<string>>();
  const touch = (segmentId: string, userId: string) => {
    let set = candidates.get(segmentId);
    if (!set) candidates.set(segmentId, (set = new Set()));
    set.add(userId);
  };
  for (const u of users) for (const input of u.inputs) for (const id of index.segmentsFor(input)) touch(id, u.user_id);
  if (!candidates.size) return [];

  const out: Change[] = [];
  // Level by level (a segment comes after the segments it reads), one statement per level: a change in a referenced
  // segment reaches the segments that read it within this batch.
  for (const level of topologicalLevels(segments)) {
    const specs: { id: string; predicate: Frag }[] = [];
    const pairs: { k: number; userId: string }[] = [];
    for (const segment of level) {
      const userIds = candidates.get(segment.id);
      if (!userIds?.size) continue;
      const k = specs.length;
      specs.push({ id: segment.id, predicate: compilePredicate(segment.definition!, { workspaceId, now, perUser: true, segmentTypes: types }) });
      for (const userId of userIds) pairs.push({ k, userId });
    }
    for (const c of await applyLevel(trx, { workspaceId, segments: specs, pairs, cause: 'incremental', at: now })) {
      out.push({ ...c, workspace_id: workspaceId });
      for (const dependent of index.segmentsFor(`segment:${c.segment_id}`)) touch(dependent, c.user_id);
    }
  }
  return out;
}

/** Runs batches until no dirty user is left (tests, benchmarks). */
export async function evaluateUntilIdle(db: Knex, now: () => Date, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await evaluateDirtyBatch(db, now(), batchSize);
    if (!n) return total;
    total += n;
  }
}

/**
 * Claims older than this that no transaction holds go back to the queue (a worker died between claim and commit).
 * Short is safe: a live worker holds its claims unlocked only between its claim and its takeClaims, and if they were
 * put back meanwhile it evaluates only those it still holds.
 */
const CLAIM_TIMEOUT_SECONDS = 10;

/** The worker-role loop: drains batches back to back, polls every EVALUATOR_INTERVAL_MS when idle. */
export function startIncrementalEvaluator(ctx: AppContext): Loop {
  let running = true;
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) => new Promise<void>((r) => {
    const wakeUp = () => { sleepers.delete(wakeUp); clearTimeout(t); r(); };
    const t = setTimeout(wakeUp, ms);
    sleepers.add(wakeUp);
  });
  let lastRecovery = 0;
  // EVALUATOR_LOOPS loops side by side (claims keep each user to one of them): while one waits for its statement,
  // another can claim and evaluate (PostgreSQL runs them on separate backends).
  const loops = ctx.config.EVALUATOR_LOOPS;
  const done = Promise.all(Array.from({ length: loops }, async () => {
    while (running) {
      try {
        const recover = Date.now() - lastRecovery > 5_000;
        if (recover) lastRecovery = Date.now();
        const n = await evaluateDirtyBatch(ctx.db, ctx.clock.now(), ctx.config.EVALUATOR_BATCH, { recoverAfterSeconds: recover ? CLAIM_TIMEOUT_SECONDS : undefined });
        if (!n) await sleep(ctx.config.EVALUATOR_INTERVAL_MS);
      } catch (e) {
        logger.error({ err: e }, 'incremental evaluation failed');
        await sleep(1000);
      }
    }
  }));
  return {
    async stop() {
      running = false;
      for (const w of [...sleepers]) w();
      await done;
    },
  };
}
