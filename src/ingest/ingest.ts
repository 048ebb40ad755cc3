import type { AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { metrics } from '../http/metrics.js';
import { normalizeMessage, type IngestMessage, type Rejection } from './normalize.js';

const TYPE_LABELS = new Set(['identify', 'track', 'group', 'page', 'screen', 'alias']);
/**
 * The metrics label for a message's type: a Segment type or "other". Never String(raw.type): a hostile
 * `type` (e.g. [{"toString": ""}]) threw there (a 500), and free text would grow the label set without bound.
 */
function typeLabel(type: unknown): string {
  const t = typeof type === 'string' ? type.toLowerCase() : '';
  return TYPE_LABELS.has(t) ? t : 'other';
}

export const MESSAGE_LIMIT = 32 * 1024;
export const BATCH_LIMIT = 500 * 1024;

/** One message on a single-message path: 200 once committed, 501 for unsupported types, 400 when invalid. */
export async function ingestOne(ctx: AppContext, workspaceId: string, raw: unknown, impliedType?: string) {
  const n = normalizeMessage(raw, workspaceId, ctx.clock.now(), impliedType);
  if (!n.ok) {
    const type = typeLabel((raw as { type?: unknown })?.type ?? impliedType);
    metrics.ingestMessages.inc({ type, outcome: n.rejection.code });
    if (n.rejection.code === 'not_supported') throw new HttpError(501, 'not_supported', n.rejection.message);
    throw new HttpError(400, 'invalid', n.rejection.message, n.rejection.issues);
  }
  const [outcome] = await ctx.writer.write([n.message]);
  metrics.ingestMessages.inc({ type: n.message.type, outcome });
  return { success: true as const };
}

export interface BatchResult {
  success: true;
  accepted: number;
  duplicates: number;
  rejected: { index: number; code: Rejection['code']; message: string }[];
}

/** A batch: supported messages are stored in one commit, the others listed under `rejected` by index. */
export async function ingestBatch(
  ctx: AppContext,
  workspaceId: string,
  batch: unknown[],
  shared: { context?: Record<string, unknown> | null; integrations?: Record<string, unknown> | null; sentAt?: unknown } = {},
): Promise<BatchResult> {
  const receivedAt = ctx.clock.now();
  const valid: IngestMessage[] = [];
  const rejected: BatchResult['rejected'] = [];
  batch.forEach((raw, index) => {
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      const m = raw as Record<string, unknown>;
      if (JSON.stringify(m).length > MESSAGE_LIMIT) {
        rejected.push({ index, code: 'invalid', message: `Message is over the ${MESSAGE_LIMIT / 1024} KB limit` });
        return;
      }
      raw = {
        ...m,
        ...(shared.context ? { context: { ...shared.context, ...(m.context as object | undefined) } } : {}),
        ...(shared.integrations ? { integrations: { ...shared.integrations, ...(m.integrations as object | undefined) } } : {}),
        ...(shared.sentAt !== undefined && m.sentAt === undefined ? { sentAt: shared.sentAt } : {}),
      };
    }
    const n = normalizeMessage(raw, workspaceId, receivedAt);
    if (n.ok) valid.push(n.message);
    else {
      rejected.push({ index, code: n.rejection.code, message: n.rejection.message });
      metrics.ingestMessages.inc({ type: typeLabel((raw as { type?: unknown })?.type), outcome: n.rejection.code });
    }
  });
  const outcomes = await ctx.writer.write(valid);
  let accepted = 0;
  outcomes.forEach((o, i) => {
    if (o === 'accepted') accepted++;
    metrics.ingestMessages.inc({ type: valid[i].type, outcome: o });
  });
  return { success: true, accepted, duplicates: outcomes.length - accepted, rejected };
}
