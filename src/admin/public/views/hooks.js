// Webhooks and Slack: add, list, test, remove, and their delivery log.
import { showFieldErrors } from '../api.js';
import { h, field, input, button, busy, notice, pageHead, errorNotice, replace, toast, errorText, empty, table, loading, copyRow, confirmDialog, nextId, badge } from '../ui.js';
import { listOf } from './segments.js';
import { deliveryLog } from './deliveries.js';

function segmentPicker(segments, legend) {
  const boxes = segments.map((s) => {
    const id = nextId('hs');
    return h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, value: s.id }), s.name);
  });
  const err = h('p', { class: 'field-error', hidden: true });
  const fs = h('fieldset', {}, h('legend', {}, legend), boxes.length ? h('div', { class: 'stack' }, boxes) : h('p', { class: 'muted small' }, 'No segments yet; create one first.'), err);
  fs.values = () => [...fs.querySelectorAll('input:checked')].map((i) => i.value);
  fs.setError = (m) => { err.textContent = m ?? ''; err.hidden = !m; };
  fs.input = fs.querySelector('input');
  return fs;
}

export async function render(root, ctx) {
  const segments = await ctx.ws.get('/segments').then((r) => listOf(r, 'segments')).catch(() => []);
  const names = new Map(segments.map((s) => [s.id, s.name]));
  const segNames = (ids) => (ids ?? []).map((i) => names.get(i) ?? i).join(', ') || '—';
  const usable = segments.filter((s) => s.status !== 'archived');

  const testAndRemove = (kind, item, reload) => {
    const out = h('span', { class: 'small' });
    const test = button('Test', async () => {
      try {
        const r = await busy(test, () => ctx.ws.post(`/${kind}/${item.id}/test`), 'Sending…');
        const ok = r.ok ?? r.success ?? (r.status ? r.status < 300 : true);
        out.replaceChildren(badge(ok ? `Delivered${r.status ? ` (${r.status})` : ''}` : `Failed${r.status ? ` (${r.status})` : ''}`, ok ? 'ok' : 'bad'), !ok && (r.message ?? r.error) ? ` ${r.message ?? r.error}` : '');
      } catch (err) {
        out.replaceChildren(badge('Failed', 'bad'), ` ${errorText(err)}`);
      }
    }, 'small');
    const del = button('Remove', async () => {
      if (!(await confirmDialog('Remove this destination?', 'Nothing more is sent to it. Past deliveries stay in the log.', 'Remove', true))) return;
      try {
        await busy(del, () => ctx.ws.del(`/${kind}/${item.id}`));
        toast('Removed');
        reload();
      } catch (err) {
        toast(errorText(err), 'bad');
      }
    }, 'small danger');
    return h('div', { class: 'row' }, test, del, out);
  };

  // Webhooks.
  const whList = h('div', {}, loading());
  const whSecretOnce = h('div', {});
  const loadWebhooks = async () => {
    try {
      const list = listOf(await ctx.ws.get('/webhooks'), 'webhooks');
      if (!list.length) return replace(whList, empty('No webhooks yet.'));
      replace(whList, table([
        { label: 'URL', cell: (w) => h('code', {}, w.url) },
        { label: 'Segments', cell: (w) => segNames(w.segmentIds) },
        { label: 'Events', cell: (w) => (w.events ?? []).join(', ') },
        { label: '', cell: (w) => testAndRemove('webhooks', w, loadWebhooks) },
      ], list, { caption: 'Webhooks' }));
    } catch (err) {
      replace(whList, errorNotice(err));
    }
  };
  const urlField = field('Endpoint URL', input({ type: 'url', placeholder: 'https://example.com/hooks/gateway', autocomplete: 'off' }));
  const whSegs = segmentPicker(usable, 'When users enter or leave');
  const evEntered = h('input', { type: 'checkbox', id: 'wh-entered', checked: true });
  const evExited = h('input', { type: 'checkbox', id: 'wh-exited' });
  const eventsFs = h('fieldset', {}, h('legend', {}, 'Send'), h('label', { class: 'check', for: 'wh-entered' }, evEntered, 'segment.entered'), h('label', { class: 'check', for: 'wh-exited' }, evExited, 'segment.exited'));
  eventsFs.setError = (m) => toast(m, 'bad');
  const whNotice = h('div', {});
  const whBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Add webhook');
  const whForm = h('form', { class: 'stack', novalidate: true, id: 'new-webhook' }, h('h3', {}, 'Add a webhook'), whNotice, urlField, h('div', { class: 'grid-2' }, whSegs, eventsFs), h('div', {}, whBtn));
  whForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    whNotice.replaceChildren();
    const url = urlField.input.value.trim();
    let bad = false;
    if (!/^https?:\/\/\S+$/.test(url)) { urlField.setError('Enter a full web address, starting with https://'); bad = true; } else urlField.setError(null);
    const segmentIds = whSegs.values();
    if (!segmentIds.length) { whSegs.setError('Choose at least one segment.'); bad = true; } else whSegs.setError(null);
    const events = [evEntered.checked && 'segment.entered', evExited.checked && 'segment.exited'].filter(Boolean);
    if (!events.length) { whNotice.replaceChildren(notice('bad', 'Choose at least one event to send.')); bad = true; }
    if (bad) return;
    try {
      const r = await busy(whBtn, () => ctx.ws.post('/webhooks', { url, segmentIds, events }), 'Adding…');
      urlField.input.value = '';
      if (r.secret) replace(whSecretOnce, h('div', { class: 'secret-once' }, h('p', {}, h('strong', {}, 'Signing secret (shown once). '), 'Use it to verify the webhook-signature header of each request.'), copyRow(r.secret, 'Signing secret')));
      toast('Webhook added');
      await loadWebhooks();
    } catch (err) {
      const rest = showFieldErrors(err, { url: urlField, segmentIds: whSegs, events: eventsFs });
      if (rest.length) whNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  // Slack.
  const slList = h('div', {}, loading());
  const loadSlack = async () => {
    try {
      const list = listOf(await ctx.ws.get('/slack'), 'slack');
      const items = list.length ? list : listOf(list, 'destinations');
      if (!items.length) return replace(slList, empty('No Slack channels yet.'));
      replace(slList, table([
        { label: 'Incoming webhook', cell: (s) => h('code', {}, s.webhookUrlHint ?? s.webhookUrl ?? s.urlHint ?? '••••') },
        { label: 'Segments', cell: (s) => segNames(s.segmentIds) },
        { label: '', cell: (s) => testAndRemove('slack', s, loadSlack) },
      ], items, { caption: 'Slack' }));
    } catch (err) {
      replace(slList, errorNotice(err));
    }
  };
  const slUrl = field('Slack incoming webhook URL', input({ type: 'url', placeholder: 'https://hooks.slack.com/services/…', autocomplete: 'off' }), { hint: 'In Slack: Apps → Incoming Webhooks → Add to a channel. Stored encrypted.' });
  const slSegs = segmentPicker(usable, 'Post when users enter');
  const slNotice = h('div', {});
  const slBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Add Slack channel');
  const slForm = h('form', { class: 'stack', novalidate: true, id: 'new-slack' }, h('h3', {}, 'Add a Slack channel'), slNotice, slUrl, slSegs, h('div', {}, slBtn));
  slForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    slNotice.replaceChildren();
    const webhookUrl = slUrl.input.value.trim();
    let bad = false;
    if (!/^https:\/\/\S+$/.test(webhookUrl)) { slUrl.setError('Paste the full Slack webhook URL, starting with https://'); bad = true; } else slUrl.setError(null);
    const segmentIds = slSegs.values();
    if (!segmentIds.length) { slSegs.setError('Choose at least one segment.'); bad = true; } else slSegs.setError(null);
    if (bad) return;
    try {
      await busy(slBtn, () => ctx.ws.post('/slack', { webhookUrl, segmentIds }), 'Adding…');
      slUrl.input.value = '';
      toast('Slack channel added');
      await loadSlack();
    } catch (err) {
      const rest = showFieldErrors(err, { webhookUrl: slUrl, segmentIds: slSegs });
      if (rest.length) slNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  root.append(
    pageHead('Webhooks & Slack', 'Tell other systems, or your team, when users enter or leave a segment. Only live updates are sent, never bulk re-checks.'),
    h('section', { class: 'card stack' }, h('h2', {}, 'Webhooks'), whSecretOnce, whList, whForm),
    h('section', { class: 'card stack' }, h('h2', {}, 'Slack'), slList, slForm),
    deliveryLog(ctx, [['webhook', 'Webhooks'], ['slack', 'Slack']], { title: 'Delivery log' }),
  );
  await Promise.all([loadWebhooks(), loadSlack()]);
}
