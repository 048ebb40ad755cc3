// Audiences: who a survey may be shown to. Include segments (any/all), exclude segments, size, eligibility check.
import { showFieldErrors } from '../api.js';
import { h, field, input, button, busy, empty, notice, pageHead, num, errorNotice, replace, toast, loading, errorText, nextId } from '../ui.js';
import { listOf } from './segments.js';

function checklist(name, segments, legend, hint) {
  const boxes = segments.map((s) => {
    const id = nextId(name);
    return h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, value: s.id, name }), `${s.name}`, h('span', { class: 'muted small' }, ` · ${s.status}`));
  });
  const err = h('p', { class: 'field-error', hidden: true, id: nextId('err') });
  const fs = h('fieldset', {}, h('legend', {}, legend), hint ? h('p', { class: 'muted small' }, hint) : null, boxes.length ? h('div', { class: 'stack' }, boxes) : h('p', { class: 'muted small' }, 'No segments yet.'), err);
  fs.values = () => [...fs.querySelectorAll('input:checked')].map((i) => i.value);
  fs.setError = (msg) => { err.textContent = msg ?? ''; err.hidden = !msg; };
  fs.input = fs.querySelector('input');
  return fs;
}

function reasonText(r, names) {
  if (typeof r === 'string') return r;
  const name = `“${r.segmentName ?? names.get(r.segmentId) ?? r.segmentId}”`;
  switch (r.result) {
    case 'matched': return `In ${name} (included).`;
    case 'failed': return `Not in ${name} (included).`;
    case 'excluded': return `In ${name}, which is excluded.`;
    case 'not_excluded': return `Not in ${name} (excluded segment).`;
    case 'not_counted': return `${name} does not count: it is ${r.status}.`;
    default: return [name, r.role, r.result].filter(Boolean).join(' ');
  }
}

export async function render(root, ctx) {
  const listBox = h('div', {}, loading());
  const segments = await ctx.ws.get('/segments').then((r) => listOf(r, 'segments')).catch(() => []);
  const names = new Map(segments.map((s) => [s.id, s.name]));
  const usable = segments.filter((s) => s.status !== 'archived' && s.status !== 'draft');

  const nameField = field('Name', input({ placeholder: 'e.g. Pro users, not surveyed lately', autocomplete: 'off' }));
  const include = checklist('include', usable, 'Include users in', 'Only active or paused segments can be used.');
  const anyR = h('input', { type: 'radio', name: 'match', value: 'any', checked: true, id: 'match-any' });
  const allR = h('input', { type: 'radio', name: 'match', value: 'all', id: 'match-all' });
  const matchFs = h('fieldset', {}, h('legend', {}, 'Match'), h('label', { class: 'check', for: 'match-any' }, anyR, 'at least one of the included segments'), h('label', { class: 'check', for: 'match-all' }, allR, 'all of the included segments'));
  const exclude = checklist('exclude', usable, 'Exclude users in', 'A user in any of these is never eligible.');
  const formNotice = h('div', {});
  const createBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Create audience');
  const form = h('form', { class: 'card stack', novalidate: true, id: 'new-audience' }, h('h2', {}, 'New audience'), formNotice, nameField, h('div', { class: 'grid-2' }, include, exclude), matchFs, h('div', {}, createBtn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formNotice.replaceChildren();
    const name = nameField.input.value.trim();
    nameField.setError(name ? null : 'Give the audience a name.');
    const inc = include.values();
    include.setError(null);
    if (!name) return nameField.input.focus();
    try {
      await busy(createBtn, () => ctx.ws.post('/audiences', { name, include: inc, match: allR.checked ? 'all' : 'any', exclude: exclude.values() }), 'Creating…');
      toast('Audience created');
      ctx.navigate(location.pathname, { replace: true });
    } catch (err) {
      const rest = showFieldErrors(err, { name: nameField, include, exclude });
      if (rest.length) formNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  root.append(pageHead('Audiences', 'Who a survey may be shown to: users in the included segments, minus the excluded ones.'), listBox, form);

  try {
    const audiences = listOf(await ctx.ws.get('/audiences'), 'audiences');
    if (!audiences.length) return replace(listBox, empty('No audiences yet. Create one below; a survey without an audience is shown to everyone.'));
    replace(listBox, ...audiences.map((a) => audienceCard(ctx, a, names)));
  } catch (err) {
    replace(listBox, errorNotice(err));
  }
}

function audienceCard(ctx, a, names) {
  const segList = (ids) => (ids?.length ? ids.map((i) => names.get(i) ?? i).join(', ') : 'none');
  const sizeEl = h('span', { class: 'value' }, a.size !== undefined ? num(a.size) : '…');
  if (a.size === undefined) {
    ctx.ws.get(`/audiences/${a.id}`).then((r) => (sizeEl.textContent = num(r.size ?? null))).catch(() => (sizeEl.textContent = '—'));
  }
  const userField = field('Check a user id', input({ autocomplete: 'off', placeholder: 'e.g. user-42' }));
  const out = h('div', { 'aria-live': 'polite' });
  const go = h('button', { type: 'submit', class: 'btn' }, 'Check eligibility');
  const f = h('form', { class: 'row inline-form', novalidate: true }, h('div', { class: 'spacer' }, userField), go);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = userField.input.value.trim();
    if (!u) return userField.setError('Enter a user id.');
    userField.setError(null);
    try {
      const r = await busy(go, () => ctx.ws.get(`/audiences/${a.id}/check/${encodeURIComponent(u)}`), 'Checking…');
      const reasons = Array.isArray(r.reasons) ? r.reasons : r.reasons ? [r.reasons] : [];
      replace(out, notice(r.eligible ? 'ok' : 'info', h('strong', {}, r.eligible ? `${u} is eligible.` : `${u} is not eligible.`), reasons.length ? h('ul', {}, reasons.map((x) => h('li', {}, reasonText(x, names)))) : null));
    } catch (err) {
      replace(out, notice('bad', errorText(err)));
    }
  });
  return h(
    'section',
    { class: 'card audience', 'data-audience': a.id },
    h('div', { class: 'row between' }, h('h2', {}, a.name), h('div', { class: 'stat' }, sizeEl, h('div', { class: 'label' }, 'eligible users'))),
    h('p', { class: 'small' }, h('strong', {}, a.match === 'all' ? 'All of: ' : 'Any of: '), segList(a.include), h('br'), h('strong', {}, 'Excluding: '), segList(a.exclude)),
    f,
    out,
  );
}
