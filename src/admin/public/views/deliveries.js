// The delivery log of outbound messages (Segment, webhooks, Slack), with a replay button for dead deliveries.
import { h, table, empty, statusBadge, errorNotice, timeEl, replace, toast, busy, button, loading, num, select } from '../ui.js';

const pick = (o, ...keys) => keys.map((k) => o?.[k]).find((v) => v !== undefined && v !== null);

export function deliveryLog(ctx, query, { title = 'Delivery log' } = {}) {
  const box = h('div', { 'aria-live': 'polite' }, loading());
  const filter = select([['', 'All'], ['dead', 'Dead only'], ['pending', 'Pending or retrying'], ['delivered', 'Delivered']], { 'aria-label': 'Show deliveries' });
  filter.addEventListener('change', () => void load());
  const refresh = button('Refresh', () => void load(), 'small');
  const card = h('section', { class: 'card deliveries' }, h('div', { class: 'row between' }, h('h2', {}, title), h('div', { class: 'row' }, filter, refresh)), box);

  async function load() {
    try {
      const params = new URLSearchParams(query);
      if (filter.value) params.set('status', filter.value);
      params.set('limit', '50');
      const r = await busy(refresh, () => ctx.ws.get(`/deliveries?${params}`));
      const rows = Array.isArray(r) ? r : r.deliveries ?? [];
      if (!rows.length) return replace(box, empty(filter.value ? 'No deliveries with this status.' : 'Nothing sent yet. Deliveries appear here as soon as there is something to send.'));
      replace(box, table([
        { label: 'Status', cell: (d) => statusBadge(d.status) },
        { label: 'What', cell: (d) => h('div', {}, String(pick(d, 'kind', 'type', 'task', 'event') ?? ''), h('div', { class: 'muted small mono' }, String(pick(d, 'messageId', 'key', 'id') ?? ''))) },
        { label: 'Attempts', num: true, cell: (d) => num(pick(d, 'attempts', 'attemptCount')) },
        { label: 'Last answer', cell: (d) => h('div', {}, String(pick(d, 'lastStatusCode', 'statusCode', 'responseStatus') ?? '—'), pick(d, 'lastError', 'error') ? h('div', { class: 'muted small' }, String(pick(d, 'lastError', 'error'))) : null) },
        { label: 'When', cell: (d) => timeEl(pick(d, 'updatedAt', 'lastAttemptAt', 'createdAt')) },
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
