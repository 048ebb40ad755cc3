// Connect Segment (inbound): where to send events, the ingest key, the Webhooks shared secret, and a live list of
// the events received.
import { showFieldErrors } from '../api.js';
import { h, field, input, button, busy, copyRow, confirmDialog, table, empty, notice, pageHead, timeEl, num, errorNotice, replace, toast, badge } from '../ui.js';

const publicUrl = () => document.querySelector('meta[name="public-url"]')?.content || location.origin;

function keyOnce(key) {
  return h(
    'div',
    { class: 'secret-once', role: 'status' },
    h('p', {}, h('strong', {}, 'Copy the ingest key now. '), 'For your safety it is shown only this once; if you lose it, rotate it to get a new one.'),
    copyRow(key, 'Ingest key', { id: 'ingest-key-value' }),
  );
}

export async function render(root, ctx) {
  const ws = await ctx.ws.get('');
  const base = publicUrl();
  const keyBox = h('div', {});
  const hintLine = h('p', { class: 'muted small' }, 'Current key: ', h('code', {}, ws.ingestKeyHint));
  if (ctx.handoff.newIngestKey?.workspaceId === ws.id) {
    keyBox.append(keyOnce(ctx.handoff.newIngestKey.key));
    delete ctx.handoff.newIngestKey;
  }
  const rotateBtn = button('Rotate key…', async () => {
    const ok = await confirmDialog(
      'Rotate the ingest key?',
      'The current key stops working at once. Segment (and anything else sending events) must be updated with the new key, or its events will be refused.',
      'Rotate key',
      true,
    );
    if (!ok) return;
    try {
      const r = await busy(rotateBtn, () => ctx.ws.post('/ingest-key/rotate'), 'Rotating…');
      replace(keyBox, keyOnce(r.ingestKey));
      const fresh = await ctx.ws.get('');
      replace(hintLine, 'Current key: ', h('code', {}, fresh.ingestKeyHint));
      keyBox.querySelector('input')?.focus();
    } catch (err) {
      replace(keyBox, errorNotice(err));
    }
  }, 'danger');

  const setup = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Send your Segment events here'),
    h('p', {}, 'In Segment, add a destination that sends your source’s events to the gateway, using the endpoint below and the workspace’s ingest key (as the API key, or as “Authorization: Bearer <key>” header).'),
    h('div', { class: 'stack' },
      h('div', { class: 'field' }, h('label', { for: 'dest-url' }, 'Destination endpoint'), copyRow(`${base}/v1/segment`, 'Destination endpoint', { id: 'dest-url' })),
      h('div', { class: 'field' }, h('label', { for: 'webhook-url' }, 'Webhooks destination URL (for Segment’s “Webhooks” destination)'), copyRow(`${base}/v1/webhooks/segment`, 'Webhooks URL', { id: 'webhook-url' })),
      h('div', { class: 'field' }, h('label', { for: 'batch-url' }, 'HTTP tracking API host (for analytics-node and other libraries)'), copyRow(base, 'API host', { id: 'batch-url' })),
    ),
  );

  const keyCard = h('section', { class: 'card' }, h('div', { class: 'row between' }, h('h2', {}, 'Ingest key'), rotateBtn), hintLine, keyBox);

  // Shared secret of Segment's Webhooks destination (X-Signature).
  const secretStatus = h('p', {});
  const secretField = field('Shared secret', input({ type: 'password', autocomplete: 'off', placeholder: 'At least 8 characters' }), { hint: 'The same value as “Shared Secret” in Segment’s Webhooks destination settings. Requests with a wrong signature are refused.' });
  const secretNotice = h('div', {});
  const saveSecret = h('button', { type: 'submit', class: 'btn primary' }, 'Save secret');
  const removeSecret = button('Remove secret', async () => {
    if (!(await confirmDialog('Remove the shared secret?', 'Webhook requests will then be accepted without a signature check.', 'Remove', true))) return;
    try {
      const r = await busy(removeSecret, () => ctx.ws.patch('', { webhookSecret: null }));
      showSecret(r.hasWebhookSecret);
      toast('Shared secret removed');
    } catch (err) {
      secretNotice.replaceChildren(errorNotice(err));
    }
  }, 'danger');
  const showSecret = (has) => {
    replace(secretStatus, has ? badge('Signature required', 'ok') : badge('Not set', ''), ' ', has ? 'Webhook requests must be signed with this secret.' : 'Optional. Without it, the Webhooks endpoint checks only the ingest key.');
    removeSecret.hidden = !has;
  };
  showSecret(ws.hasWebhookSecret);
  const secretForm = h('form', { class: 'card stack', novalidate: true }, h('h2', {}, 'Webhooks shared secret'), secretStatus, secretNotice, secretField, h('div', { class: 'row' }, saveSecret, removeSecret));
  secretForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    secretNotice.replaceChildren();
    const v = secretField.input.value;
    if (v.length < 8) return secretField.setError('Use at least 8 characters.');
    secretField.setError(null);
    try {
      const r = await busy(saveSecret, () => ctx.ws.patch('', { webhookSecret: v }), 'Saving…');
      secretField.input.value = '';
      showSecret(r.hasWebhookSecret);
      toast('Shared secret saved');
    } catch (err) {
      const rest = showFieldErrors(err, { webhookSecret: secretField });
      if (rest.length) secretNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  // Live list of the last events received.
  const countEl = h('span', { class: 'muted small' });
  const eventsBox = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading events…'));
  const liveCard = h('section', { class: 'card', id: 'recent-events' }, h('div', { class: 'row between' }, h('h2', {}, 'Last events received'), countEl), eventsBox);

  let timer;
  let stopped = false;
  const curl = `curl -u '<ingest key>:' -H 'Content-Type: application/json' ${base}/v1/track -d '{"userId":"test-user","event":"Gateway Test"}'`;
  async function poll() {
    try {
      const r = await ctx.ws.get('/events/recent?limit=20');
      countEl.textContent = `${num(r.total)}${r.total >= 100000 ? '+' : ''} events stored · refreshes every 3 s`;
      if (!r.events.length) {
        replace(eventsBox, empty('Waiting for the first event… It appears here within a few seconds of arriving.', h('div', { class: 'stack' }, h('p', { class: 'small' }, 'To try it now, send one from a terminal:'), h('pre', { class: 'json' }, curl))));
      } else {
        replace(
          eventsBox,
          table(
            [
              { label: 'Type', cell: (e) => badge(e.type, e.type === 'track' ? 'accent' : '') },
              { label: 'Event', cell: (e) => e.event ?? (e.type === 'group' ? `group ${e.groupId ?? ''}` : '—') },
              { label: 'User', cell: (e) => h('code', {}, e.userId ?? `anon ${e.anonymousId ?? ''}`) },
              { label: 'Received', cell: (e) => timeEl(e.receivedAt) },
            ],
            r.events,
            { caption: 'Recent events' },
          ),
        );
      }
    } catch (err) {
      replace(eventsBox, errorNotice(err));
    }
    if (!stopped) timer = setTimeout(poll, 3000);
  }

  root.append(pageHead(`Connect Segment`, `Workspace “${ws.name}”: send events in, and watch them arrive.`), setup, keyCard, liveCard, secretForm);
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
