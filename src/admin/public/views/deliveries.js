// The delivery log of outbound messages (Segment, webhooks, Slack), with a replay button for dead deliveries.
import { h, table, empty, statusBadge, errorNotice, timeEl, replace, toast, busy, button, loading, num, select } from '../ui.js';

const pick = (o, ...keys) => keys.map((k) => o?.[k]).find((v) => v !== undefined && v !== null);

/** destinations: [[value, label], ...] of the `destination` filter (the first is the default). */
export function deliveryLog(ctx, destinations, { title = 'Delivery log' } = {}) {
  const box = h('div', { 'aria-live': 'polite' }, loading());
  const filter = select([['', 'Any status'], ['dead', 'Dead'], ['retrying', 'Retrying'], ['pending', 'Pending'], ['delivered', 'Delivered']], { 'aria-label': 'Status' });
  filter.addEventListener('change', () => void load());
  const dest = select(destinations, { 'aria-label': 'Destination' });
  dest.addEventListener('change', () => void load());
  dest.hidden = destinations.length < 2;
  const refresh = button('Refresh', () => void load(), 'small');
  const card = h('section', { class: 'card deliveries' }, h('div', { class: 'row between' }, h('h2', {}, title), h('div', { class: 'row' }, dest, filter, refresh)), box);

  async function load() {
    try {
      const params = new URLSearchParams();
      if (dest.value) params.set('destination', dest.value);
      if (filter.value) params.set('status', filter.value);
      params.set('limit', '50');
      const r = await busy(refresh, () => ctx.ws.get(`/deliveries?${params}`));
      const rows = Array.isArray(r) ? r : r.deliveries ?? [];
      if (!rows.length) return replace(box, empty(filter.value ? 'No deliveries with this status.' : 'Nothing sent yet. Deliveries appear here as soon as there is something to send.'));
      replace(box, table([
        { label: 'Status', cell: (d) => statusBadge(d.status) },
        { label: 'Message', cell: (d) => h('div', {}, String(pick(d, 'destination', 'kind', 'type') ?? ''), h('div', { class: 'muted small mono' }, String(pick(d, 'messageKey', 'messageId', 'id') ?? ''))) },
        { label: 'Attempts', num: true, cell: (d) => num(pick(d, 'attempts', 'attemptCount')) },
        { label: 'Last answer', cell: (d) => h('div', {}, String(pick(d, 'lastStatusCode', 'statusCode', 'responseStatus') ?? '—'), pick(d, 'lastError', 'error') ? h('div', { class: 'muted small' }, String(pick(d, 'lastError', 'error'))) : null) },
        { label: 'When', cell: (d) => h('div', {}, timeEl(pick(d, 'deliveredAt', 'lastAttemptAt', 'updatedAt', 'createdAt')), d.nextAttemptAt ? h('div', { class: 'muted small' }, 'next try ', timeEl(d.nextAttemptAt)) : null) },
        { label: '', cell: (d) => (d.status === 'dead' || d.status === 'failed' ? replayButton(ctx, d, load) : '') },
      ], rows, { caption: title }));
    } catch (err) {
      replace(box, errorNotice(err));
    }
  }
  void load();
  card.reload = load;
  return card;
}

function replayButton(ctx, d, reload) {
  const b = button('Replay', async () => {
    try {
      await busy(b, () => ctx.ws.post(`/deliveries/${encodeURIComponent(d.id)}/replay`), 'Replaying…');
      toast('Queued again');
      await reload();
    } catch (err) {
      toast(err.message, 'bad');
    }
  }, 'small');
  return b;
}
