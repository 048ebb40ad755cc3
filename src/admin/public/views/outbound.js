// Send to Segment (outbound): write key, switch, surveys, trait prefix, event names, a test event, the delivery log.
import { showFieldErrors } from '../api.js';
import { h, field, input, select, button, busy, notice, pageHead, errorNotice, replace, toast, errorText, badge, nextId } from '../ui.js';
import { listOf } from './segments.js';
import { deliveryLog } from './deliveries.js';

export async function render(root, ctx) {
  let current = null;
  let missing = false;
  try {
    current = await ctx.ws.get('/integrations/segment');
  } catch (err) {
    if (err.missing) missing = true;
    else if (err.status !== 404) throw err;
  }
  if (missing) {
    root.append(pageHead('Send to Segment', null), errorNotice({ missing: true }));
    return;
  }
  const surveys = await ctx.ws.get('/surveys').then((r) => listOf(r, 'surveys')).catch(() => []);
  const c = current ?? {};
  const hint = c.writeKeyHint ?? c.writeKeyMasked ?? (typeof c.writeKey === 'string' ? c.writeKey : null);

  const status = h('p', { id: 'integration-status' }, current ? badge(c.enabled ? 'Sending' : 'Switched off', c.enabled ? 'ok' : 'warn') : badge('Not set up'), ' ', hint ? h('span', { class: 'muted small' }, 'Write key ', h('code', {}, hint)) : null);
  const keyField = field('Segment write key', input({ type: 'password', autocomplete: 'off', placeholder: hint ? 'Saved. Leave empty to keep it.' : 'From your Segment source settings' }), { hint: 'Create an HTTP API source in Segment and paste its write key. It is stored encrypted and never shown again in full.' });
  const enabled = h('input', { type: 'checkbox', id: 'seg-enabled', checked: current ? c.enabled : true });
  const prefixField = field('Trait prefix', input({ value: c.traitPrefix ?? 'survey_' }), { hint: 'Answers become traits named <prefix><question id>, e.g. survey_nps.' });
  const evCompleted = field('“Completed” event name', input({ value: c.events?.completed ?? 'Survey Completed' }));
  const evSeen = field('“Seen” event name', input({ value: c.events?.seen ?? 'Survey Seen' }));
  const evDismissed = field('“Dismissed” event name', input({ value: c.events?.dismissed ?? 'Survey Dismissed' }));
  const trackSeen = h('input', { type: 'checkbox', id: 'seg-track-seen', checked: Boolean(c.trackSeen) });
  const trackDismissed = h('input', { type: 'checkbox', id: 'seg-track-dismissed', checked: Boolean(c.trackDismissed) });

  const allSurveys = h('input', { type: 'radio', name: 'surveys', id: 'surveys-all', checked: !Array.isArray(c.surveyIds) });
  const someSurveys = h('input', { type: 'radio', name: 'surveys', id: 'surveys-some', checked: Array.isArray(c.surveyIds) });
  const surveyBoxes = surveys.map((s) => {
    const id = nextId('sv');
    return h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, value: s.id, checked: Array.isArray(c.surveyIds) && c.surveyIds.includes(s.id) }), s.name);
  });
  const surveyList = h('div', { class: 'stack' }, surveyBoxes.length ? surveyBoxes : h('p', { class: 'muted small' }, 'No surveys yet.'));
  const syncSurveys = () => (surveyList.hidden = !someSurveys.checked);
  allSurveys.addEventListener('change', syncSurveys);
  someSurveys.addEventListener('change', syncSurveys);
  syncSurveys();
  const surveysFs = h('fieldset', {}, h('legend', {}, 'Surveys to send'), h('label', { class: 'check', for: 'surveys-all' }, allSurveys, 'All surveys'), h('label', { class: 'check', for: 'surveys-some' }, someSurveys, 'Only these:'), surveyList);

  const formNotice = h('div', {});
  const saveBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Save');
  const form = h('form', { class: 'card stack', novalidate: true, id: 'segment-integration' },
    h('h2', {}, 'Settings'), status, formNotice, keyField,
    h('label', { class: 'check', for: 'seg-enabled' }, enabled, 'Send survey responses to Segment'),
    surveysFs, prefixField,
    h('div', { class: 'form-grid' }, evCompleted, evSeen, evDismissed),
    h('label', { class: 'check', for: 'seg-track-seen' }, trackSeen, 'Also send a track call when a survey is seen'),
    h('label', { class: 'check', for: 'seg-track-dismissed' }, trackDismissed, 'Also send a track call when a survey is dismissed'),
    h('div', {}, saveBtn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formNotice.replaceChildren();
    const writeKey = keyField.input.value.trim();
    if (!writeKey && !hint) return keyField.setError('Paste the write key of your Segment source.');
    keyField.setError(null);
    const body = {
      enabled: enabled.checked,
      surveyIds: someSurveys.checked ? surveyBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value) : null,
      traitPrefix: prefixField.input.value,
      events: { completed: evCompleted.input.value.trim(), seen: evSeen.input.value.trim(), dismissed: evDismissed.input.value.trim() },
      trackSeen: trackSeen.checked,
      trackDismissed: trackDismissed.checked,
    };
    if (writeKey) body.writeKey = writeKey;
    try {
      await busy(saveBtn, () => ctx.ws.put('/integrations/segment', body), 'Saving…');
      toast('Segment settings saved');
      ctx.navigate(location.pathname, { replace: true });
    } catch (err) {
      const rest = showFieldErrors(err, { writeKey: keyField, traitPrefix: prefixField, events: evCompleted });
      if (rest.length) formNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  // Test event.
  const testOut = h('div', { 'aria-live': 'polite', id: 'test-result' });
  const testBtn = button('Send a test event', async () => {
    try {
      const r = await busy(testBtn, () => ctx.ws.post('/integrations/segment/test'), 'Sending…');
      const ok = r.ok ?? r.success ?? (r.status ? r.status < 300 : true);
      const answer = r.status ?? r.statusCode;
      const said = r.message ?? r.error ?? r.body;
      replace(testOut, notice(ok ? 'ok' : 'bad', ok ? 'Segment accepted the test event' : 'Segment refused the test event', answer ? ` (HTTP ${answer})` : '', '.', said && !(ok && said === 'Accepted') ? h('div', { class: 'small' }, 'Segment said: ', h('code', {}, typeof said === 'string' ? said : JSON.stringify(said))) : null));
    } catch (err) {
      replace(testOut, notice('bad', `The test event was not sent: ${errorText(err)}`));
    }
  });
  testBtn.disabled = !current;
  const testCard = h('section', { class: 'card' }, h('h2', {}, 'Test'), h('p', { class: 'muted' }, 'Sends one identify call for a test user with your write key, and shows Segment’s answer.'), testBtn, testOut);

  root.append(pageHead('Send to Segment', 'Survey responses go back to your Segment workspace as identify, group and track calls.'), form, testCard, deliveryLog(ctx, [['segment', 'Segment']]));
}
