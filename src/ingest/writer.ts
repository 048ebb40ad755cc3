import type { Knex } from 'knex';
import type { IngestMessage } from './normalize.js';
import { insertEventsWithProfiles, resolveAnonymousIds, NEEDS_TRANSACTION } from './store.js';
import { aggregateProfileChanges, type ProfileChanges } from '../profiles/aggregate.js';
import { finishProfileChanges, linkIdentities, upsertProfiles } from '../profiles/store.js';
import { isConnectionError } from '../db/knex.js';
import { metrics } from '../http/metrics.js';

export type WriteOutcome = 'accepted' | 'duplicate';

interface Pending {
  messages: IngestMessage[];
  resolve: (outcomes: WriteOutcome[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Anonymous ids this process has seen linked to a user (workspace \u0001 anonymousId). Once linked, a visitor
 * stays linked (the link statement only touches unlinked ones), so analytics.js traffic, which carries both ids
 * on every message, skips the identity statement after the first commit. Filled only after a commit.
 */
const linked = new Set<string>();
const LINKED_MAX = 200_000;

const isLinked = (l: ProfileChanges['links'][number]) => linked.has(`${l.workspace_id}\u0001${l.anonymous_id}`);

/** Profile changes of these messages, minus identity links this process already knows are made. */
function changesOf(messages: IngestMessage[]): ProfileChanges {
  const changes = aggregateProfileChanges(messages);
  changes.links = changes.links.filter((l) => !isLinked(l));
  return changes;
}

/**
 * Stores a batch of messages atomically: events, profiles, counters, identity links and dirty marks. Usually that
 * is one statement in autocommit, one round trip (round trips dominate a small commit's cost). A transaction of
 * several statements is used when an anonymous visitor that has data of its own meets its user, or when some
 * messages were already stored (a replay); add one lookup first when a message has no userId.
 */
export async function storeMessages(db: Knex, messages: IngestMessage[]): Promise<WriteOutcome[]> {
  // A messageId repeated inside the batch: the first one counts, the others are duplicates.
  const seen = new Set<string>();
  const firsts: number[] = [];
  messages.forEach((m, i) => {
    const key = `${m.workspaceId}\u0001${m.messageId}`;
    if (!seen.has(key)) { seen.add(key); firsts.push(i); }
  });
  await resolveAnonymousIds(db, messages);
  const unique = firsts.length === messages.length ? messages : firsts.map((i) => messages[i]);
  let changes = changesOf(unique);
  // A visitor both active anonymously and linked in this batch has data of its own to move: the transaction.
  const visitors = new Set(changes.anonymous.map((a) => `${a.workspace_id}\u0001${a.id}`));
  const simple = !changes.links.some((l) => visitors.has(`${l.workspace_id}\u0001${l.anonymous_id}`));
  let fresh = simple ? await storeInOneStatement(db, unique, changes) : null;
  if (!fresh) {
    fresh = await db.transaction(async (trx) => {
      const written = await insertEventsWithProfiles(trx, unique, changes, false);
      if (written.allFresh) {
        await linkIdentities(trx, changes.links);
        return written.fresh;
      }
      // Some were replays: the profile part did nothing; apply the new messages' changes alone.
      changes = changesOf(unique.filter((_, j) => written.fresh.has(j)));
      await finishProfileChanges(trx, changes, await upsertProfiles(trx, changes));
      return written.fresh;
    });
  }
  if (linked.size + changes.links.length > LINKED_MAX) linked.clear();
  for (const l of changes.links) linked.add(`${l.workspace_id}\u0001${l.anonymous_id}`);
  const accepted = new Set(firsts.filter((_, j) => fresh.has(j)));
  return messages.map((_, i): WriteOutcome => (accepted.has(i) ? 'accepted' : 'duplicate'));
}

/** The one-statement commit; null when the batch needs the transaction (then nothing was written). */
async function storeInOneStatement(db: Knex, messages: IngestMessage[], changes: ProfileChanges): Promise<Set<number> | null> {
  try {
    return (await insertEventsWithProfiles(db, messages, changes, true)).fresh;
  } catch (err) {
    if ((err as { code?: string }).code === NEEDS_TRANSACTION) return null;
    throw err;
  }
}

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

/**
 * Group commit: requests that arrive while a transaction is being written wait for the next one, so
 * under load many requests share one commit (and one fsync), and at low load a request is written at once.
 * Each request's promise settles only after its transaction committed.
 *
 * A second commit runs beside the first only when at least `parallelBacklog` messages wait (64). Two commits at once
 * keep both cores busy under a flood (single events: 3,294–3,473 against 2,557–2,679 events/s with a threshold of
 * 200; batches: 5,865 against 4,162 with one commit), but at a modest steady rate they halve the commits and cost
 * more PostgreSQL CPU per event (71 % against 59 % of a core for the same 2,500 events/s), CPU the segment evaluator
 * needs (docs/ingest.md).
 */
export class GroupCommitWriter {
  private queue: Pending[] = [];
  private queuedMessages = 0; // messages in `queue`
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: Knex,
    private readonly opts: { maxBatchMessages?: number; concurrency?: number; parallelBacklog?: number } = {},
  ) {}

  write(messages: IngestMessage[]): Promise<WriteOutcome[]> {
    if (!messages.length) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ messages, resolve, reject });
      this.queuedMessages += messages.length;
      this.pump();
    });
  }

  /** Resolves when nothing is queued or being written (graceful shutdown). */
  drain(): Promise<void> {
    if (!this.queue.length && !this.running) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump() {
    const max = this.opts.concurrency ?? 2;
    const backlog = this.opts.parallelBacklog ?? 64;
    while (this.running < max && this.queue.length && (this.running === 0 || this.queuedMessages >= backlog)) {
      const take = this.takeBatch();
      this.running++;
      void this.commit(take).finally(() => {
        this.running--;
        if (this.queue.length) this.pump();
        else if (!this.running) this.idle.splice(0).forEach((r) => r());
      });
    }
  }

  private takeBatch(): Pending[] {
    const limit = this.opts.maxBatchMessages ?? 5000;
    const take: Pending[] = [];
    let n = 0;
    while (this.queue.length && (n === 0 || n + this.queue[0].messages.length <= limit)) {
      const p = this.queue.shift()!;
      n += p.messages.length;
      this.queuedMessages -= p.messages.length;
      take.push(p);
    }
    return take;
  }

  private async commit(batch: Pending[]): Promise<void> {
    const all = batch.flatMap((p) => p.messages);
    metrics.groupCommitSize.observe(all.length);
    try {
      const outcomes = await this.withRetry(() => storeMessages(this.db, all));
      let offset = 0;
      for (const p of batch) {
        p.resolve(outcomes.slice(offset, offset + p.messages.length));
        offset += p.messages.length;
      }
    } catch (err) {
      if (batch.length > 1 && !isConnectionError(err)) {
        // One request's data broke the shared transaction: write each alone so the others still land.
        for (const p of batch) {
          try { p.resolve(await this.withRetry(() => storeMessages(this.db, p.messages))); } catch (e) { p.reject(e); }
        }
      } else {
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 5) continue;
        throw err;
      }
    }
  }
}
