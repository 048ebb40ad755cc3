// One segment: status actions, size over time, members (paged), recent entries and exits, explain for one user,
// and for manual lists: add by id, CSV upload, remove, subtract another segment.
import { showFieldErrors } from '../api.js';
import { h, field, input, select, button, busy, table, empty, notice, pageHead, statusBadge, badge, num, sparkline, errorNotice, timeEl, replace, toast, confirmDialog, loading, errorText, when } from '../ui.js';
import { listOf, typeLabel } from './segments.js';
import { OPS } from './definition.js';
import { parseUserIds } from './csv.js';

export function describe(d) {
  if (!d || typeof d !== 'object') return String(d ?? '');
  const cmp = () => `${OPS[d.op] ?? d.op ?? ''}${d.days !== undefined ? ` ${d.days} days` : ''}${d.value !== undefined ? ` ${Array.isArray(d.value) ? d.value.join(', ') : d.value}` : ''}`.replace(/ … days/, '');
  if (d.all) return 'All of';
  if (d.any) return 'Any of';
  if (d.not) return 'Not';
  if ('trait' in d) return `Trait “${d.trait}” ${cmp()}`;
  if ('accountTrait' in d) return `Account trait “${d.accountTrait}” ${cmp()}`;
  if ('attribute' in d) return `${d.attribute} ${cmp()}`;
  if ('event' in d) {
    const times = d.performed === false ? 'never performed' : `performed ${d.count ? `${d.count.op} ${d.count.value}` : 'at least 1'} time(s)`;
    return `Event “${d.event}” ${times}${d.withinDays ? ` in the last ${d.withinDays} days` : ''}${d.where?.length ? ` where ${d.where.map((w) => `${w.property} ${OPS[w.op] ?? w.op} ${w.value ?? ''}`).join(' and ')}` : ''}`;
  }
  if ('interaction' in d) return `${d.performed === false ? 'Has not' : 'Has'} ${d.interaction} ${d.survey === 'any' ? 'any survey' : `survey ${d.survey}`}${d.withinDays ? ` in the last ${d.withinDays} days` : ''}`;
  if ('survey' in d) return `Answer to “${d.question}” ${cmp()}`;
  if ('segment' in d) return `${d.member === false ? 'Not a member' : 'Member'} of segment ${d.segment}`;
  return JSON.stringify(d);
}

const BOOL_KEYS = ['matched', 'result', 'holds', 'match', 'ok', 'pass', 'member', 'value'];
/** Renders the explain answer whatever its exact shape: nodes with a true/false outcome and children. */
function explainTree(x) {
  if (Array.isArray(x)) return h('ul', { class: 'explain' }, x.map((c) => h('li', {}, explainTree(c))));
  if (!x || typeof x !== 'object') return h('span', {}, String(x));
  const boolKey = BOOL_KEYS.find((k) => typeof x[k] === 'boolean');
  const cond = x.condition ?? x.node ?? x.definition ?? null;
  const group = x.group ? ({ all: 'All of', any: 'Any of', not: 'Not' })[x.group] ?? x.group : null;
  const label = x.description ?? x.label ?? x.reason ?? group ?? (cond ? describe(cond) : x.type ? String(x.type) : '');
  const kids = x.children ?? x.nodes ?? x.conditions ?? (Array.isArray(x.all) ? x.all : Array.isArray(x.any) ? x.any : null);
  const actual = x.actual ?? x.observed ?? x.found ?? (boolKey !== 'value' && x.value !== undefined && typeof x.value !== 'object' ? x.value : undefined);
  return h(
    'div',
    {},
    boolKey ? h('span', { class: x[boolKey] ? 'yes' : 'no' }, x[boolKey] ? '✓ holds' : '✗ does not hold') : null,
    label ? [' ', h('span', {}, label)] : null,
    actual !== undefined ? h('span', { class: 'muted small' }, ` (value: ${typeof actual === 'object' ? JSON.stringify(actual) : actual})`) : null,
    kids ? explainTree(kids) : null,
  );
}

export async function render(root, ctx) {
  const id = ctx.params[1];
  const seg = await ctx.ws.get(`/segments/${id}`);
  const base = `/admin/w/${ctx.wsId}/segments/${id}`;
  const notices = h('div', {});
  if (ctx.handoff.segmentResult?.id === id) {
    const { result, message } = ctx.handoff.segmentResult;
    delete ctx.handoff.segmentResult;
    notices.append(notice('ok', message), unknownNotice(result) ?? '');
  }

  const setStatus = (status, label) => async (e) => {
    const btn = e.currentTarget; // (gone once the event is over, e.g. after the confirmation)
    if (status === 'archived' && !(await confirmDialog('Archive this segment?', 'It stops updating and disappears from lists and pickers. Its members and history are kept, and you can restore it later.', 'Archive', true))) return;
    try {
      await busy(btn, () => ctx.ws.patch(`/segments/${id}`, { status }), `${label}…`);
      toast(`Segment ${status === 'active' ? 'activated' : status}`);
      ctx.navigate(base, { replace: true });
    } catch (err) {
      notices.replaceChildren(errorNotice(err));
    }
  };
  const actions = [];
  if (seg.type === 'dynamic' && seg.status !== 'archived') actions.push(h('a', { class: 'btn', href: `${base}/edit` }, 'Edit'));
  if (seg.status === 'draft' || seg.status === 'paused') actions.push(button('Activate', setStatus('active', 'Activating'), 'primary'));
  if (seg.status === 'active') actions.push(button('Pause', setStatus('paused', 'Pausing')));
  if (seg.status === 'archived') actions.push(button('Restore', setStatus('paused', 'Restoring')));
  else actions.push(button('Archive', setStatus('archived', 'Archiving'), 'danger'));
  if (seg.type === 'dynamic' && seg.status === 'active') {
    const evalBtn = button('Re-check everyone now', async () => {
      try {
        const r = await busy(evalBtn, () => ctx.ws.post(`/segments/${id}/evaluate`), 'Checking…');
        toast(`Done: ${num(r.size)} members (${num(r.entered)} entered, ${num(r.exited)} left)`);
        ctx.navigate(base, { replace: true });
      } catch (err) {
        notices.replaceChildren(errorNotice(err));
      }
    });
    actions.push(evalBtn);
  }

  const head = pageHead(seg.name, seg.description || null, ...actions);
  const meta = h('div', { class: 'row', style: null }, badge(typeLabel(seg.type)), statusBadge(seg.status), seg.lastEvaluatedAt ? h('span', { class: 'muted small' }, 'Last checked ', timeEl(seg.lastEvaluatedAt)) : null);

  // Size and chart.
  const chartBox = h('div', {});
  const stats = h('div', { class: 'stats' }, h('div', { class: 'stat' }, h('div', { class: 'value', id: 'segment-size' }, num(seg.size)), h('div', { class: 'label' }, 'members')), h('div', { class: 'stat' }, chartBox, h('div', { class: 'label' }, 'size over the last evaluations')));
  ctx.ws.get(`/size-history?segmentIds=${id}&points=60`).then((r) => chartBox.replaceChildren(sparkline(r.history[id] ?? [], { width: 220, height: 44 }))).catch(() => chartBox.replaceChildren('—'));

  // Definition, read-only.
  const defCard = seg.type === 'dynamic' && seg.definition ? h('details', { class: 'card' }, h('summary', {}, 'Conditions'), h('pre', { class: 'json' }, JSON.stringify(seg.definition, null, 2))) : null;

  // Members, paged.
  const membersBox = h('div', {}, loading());
  let cursor = null;
  const rows = [];
  const more = button('Load more', () => void loadMembers());
  async function loadMembers() {
    try {
      const r = await busy(more, () => ctx.ws.get(`/segments/${id}/members?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 'Loading…');
      rows.push(...(r.members ?? []));
      cursor = r.nextCursor ?? null;
      if (!rows.length) {
        replace(membersBox, empty(seg.status === 'draft' ? 'A draft is not evaluated yet. Activate it to fill it with the users who match.' : 'No members yet.'));
        return;
      }
      more.hidden = !cursor;
      replace(membersBox, table([{ label: 'User', cell: (m) => h('code', {}, m.userId) }, { label: 'Entered', cell: (m) => timeEl(m.enteredAt) }], rows, { caption: 'Members' }), h('div', { class: 'row', style: null }, h('span', { class: 'muted small' }, `Showing ${num(rows.length)}`), more));
    } catch (err) {
      replace(membersBox, errorNotice(err));
    }
  }
  const membersCard = h('section', { class: 'card', id: 'members' }, h('h2', {}, 'Members'), membersBox);

  // Recent entries and exits.
  const logBox = h('div', {}, loading());
  ctx.ws.get(`/membership-log?segmentId=${id}&limit=30`).then((r) => {
    if (!r.entries.length) return replace(logBox, empty('Nobody has entered or left yet.'));
    replace(logBox, table([
      { label: 'User', cell: (l) => h('code', {}, l.userId) },
      { label: 'Change', cell: (l) => badge(l.change === 'entered' ? 'entered' : 'left', l.change === 'entered' ? 'ok' : 'warn') },
      { label: 'Cause', cell: (l) => ({ full: 'full check', incremental: 'live update', schedule: 'scheduled check', manual: 'by hand' })[l.cause] ?? l.cause },
      { label: 'When', cell: (l) => timeEl(l.at) },
    ], r.entries, { caption: 'Recent entries and exits' }));
  }).catch((err) => replace(logBox, errorNotice(err)));
  const logCard = h('section', { class: 'card' }, h('h2', {}, 'Recent entries and exits'), logBox);

  // Explain.
  let explainCard = null;
  if (seg.type === 'dynamic') {
    const userField = field('User id', input({ autocomplete: 'off', placeholder: 'e.g. user-42' }));
    const out = h('div', { 'aria-live': 'polite' });
    const go = h('button', { type: 'submit', class: 'btn' }, 'Explain');
    const f = h('form', { class: 'row inline-form', novalidate: true }, h('div', { class: 'spacer' }, userField), go);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const u = userField.input.value.trim();
      if (!u) return userField.setError('Enter a user id.');
      userField.setError(null);
      try {
        const r = await busy(go, () => ctx.ws.get(`/segments/${id}/explain/${encodeURIComponent(u)}`), 'Checking…');
        const verdict = typeof r.member === 'boolean' ? r.member : typeof r.matched === 'boolean' ? r.matched : typeof r.result === 'boolean' ? r.result : null;
        replace(out,
          verdict === null ? null : notice(verdict ? 'ok' : 'info', verdict ? `${u} matches this segment.` : `${u} does not match this segment.`),
          explainTree(r.tree ?? r.explain ?? r.explanation ?? r.conditions ?? r.node ?? r),
        );
      } catch (err) {
        replace(out, notice(err.status === 404 && !err.missing ? 'warn' : 'bad', err.status === 404 && !err.missing ? `No user “${u}” in this workspace.` : errorText(err)));
      }
    });
    explainCard = h('section', { class: 'card' }, h('h2', {}, 'Why is a user in or out?'), f, out);
  }

  const staticCards = seg.type === 'static' ? staticTools(ctx, id, base) : null;

  root.append(...[head, meta, h('div', { class: 'spacer' }), notices, stats, staticCards, h('div', { class: 'grid-2' }, membersCard, logCard), explainCard, defCard].filter(Boolean));
  root.querySelector('.spacer').style.height = '12px';
  more.hidden = true;
  await loadMembers();
}

function staticTools(ctx, id, base) {
  const refresh = (msg, r) => {
    ctx.handoff.segmentResult = { id, result: r, message: msg };
    ctx.navigate(base, { replace: true });
  };

  // Add or remove by id.
  const idsField = field('User ids', h('textarea', { placeholder: 'One per line, or separated by commas', rows: '3' }));
  const addBtn = h('button', { type: 'submit', class: 'btn primary', value: 'add' }, 'Add users');
  const removeBtn = h('button', { type: 'submit', class: 'btn danger', value: 'remove' }, 'Remove users');
  const idsNotice = h('div', {});
  const idsForm = h('form', { class: 'card stack', novalidate: true, id: 'add-by-id' }, h('h2', {}, 'Add or remove by user id'), idsNotice, idsField, h('div', { class: 'row' }, addBtn, removeBtn));
  idsForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    idsNotice.replaceChildren();
    const userIds = [...new Set(idsField.input.value.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
    if (!userIds.length) return idsField.setError('Enter at least one user id.');
    idsField.setError(null);
    const remove = e.submitter?.value === 'remove';
    try {
      const r = await busy(remove ? removeBtn : addBtn, () => (remove ? ctx.ws.del(`/segments/${id}/members`, { userIds }) : ctx.ws.post(`/segments/${id}/members`, { userIds, mode: 'add' })), 'Saving…');
      refresh(summary(r), r);
    } catch (err) {
      const rest = showFieldErrors(err, { userIds: idsField });
      if (rest.length) idsNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  // CSV upload.
  const file = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'csv-file' });
  const fileField = field('CSV file', file, { hint: 'One user id per line, or a column named userId, user_id or email (matched against the email trait). A header row is fine.' });
  const mode = select([['add', 'Append to the current list'], ['replace', 'Replace the whole list']], { id: 'csv-mode' });
  const modeField = field('Mode', mode);
  const csvNotice = h('div', { 'aria-live': 'polite' });
  const upBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Upload');
  const csvForm = h('form', { class: 'card stack', novalidate: true, id: 'csv-upload' }, h('h2', {}, 'Upload a CSV'), csvNotice, h('div', { class: 'form-grid' }, fileField, modeField), h('div', {}, upBtn));
  csvForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    csvNotice.replaceChildren();
    const f = file.files?.[0];
    if (!f) return fileField.setError('Choose a CSV file.');
    if (f.size > 20 * 1024 * 1024) return fileField.setError('This file is larger than 20 MB; split it into smaller files.');
    fileField.setError(null);
    const text = await f.text();
    const parsed = parseUserIds(text);
    if (parsed.error) return fileField.setError(parsed.error);
    if (!parsed.userIds.length) return fileField.setError('No user ids were found in this file.');
    if (mode.value === 'replace' && !(await confirmDialog('Replace the whole list?', `The segment will hold exactly the ${num(parsed.userIds.length)} users of this file; everyone else leaves it.`, 'Replace', true))) return;
    try {
      const r = await busy(upBtn, () => ctx.ws.postText(`/segments/${id}/members?mode=${mode.value}`, text, 'text/csv'), 'Uploading…');
      refresh(`${f.name}: ${summary(r)}`, r);
    } catch (err) {
      csvNotice.replaceChildren(notice('bad', `The file was not imported: ${errorText(err)}`));
    }
  });

  // Subtract another segment.
  const other = select([['', 'Loading…']], { id: 'subtract-segment' });
  const otherField = field('Remove everyone who is in', other);
  ctx.ws.get('/segments').then((r) => {
    const segs = listOf(r, 'segments').filter((s) => s.id !== id);
    other.replaceChildren(h('option', { value: '' }, segs.length ? 'Choose a segment…' : 'No other segments'), ...segs.map((s) => h('option', { value: s.id }, s.name)));
  }).catch(() => other.replaceChildren(h('option', { value: '' }, 'Segments could not be loaded')));
  const subBtn = h('button', { type: 'submit', class: 'btn' }, 'Subtract');
  const subNotice = h('div', {});
  const subForm = h('form', { class: 'card stack', novalidate: true }, h('h2', {}, 'Subtract another segment'), subNotice, otherField, h('div', {}, subBtn));
  subForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!other.value) return otherField.setError('Choose a segment.');
    otherField.setError(null);
    try {
      const r = await busy(subBtn, () => ctx.ws.post(`/segments/${id}/subtract`, { segmentId: other.value }), 'Subtracting…');
      refresh(summary(r), r);
    } catch (err) {
      subNotice.replaceChildren(notice('bad', errorText(err)));
    }
  });

  return h('div', {}, h('div', { class: 'grid-2' }, idsForm, csvForm), subForm);
}

/** "2 added, 1 removed; 5 members now" from the static list's answer. */
function summary(r) {
  if (!r || typeof r !== 'object') return 'Done';
  const parts = [];
  if (typeof r.added === 'number') parts.push(`${num(r.added)} added`);
  if (typeof r.removed === 'number') parts.push(`${num(r.removed)} removed`);
  let text = parts.join(', ') || 'Done';
  if (typeof r.size === 'number') text += `; ${num(r.size)} ${r.size === 1 ? 'member' : 'members'} now`;
  return text;
}

/** Ids the gateway does not know: shown, never silently created. */
function unknownNotice(r) {
  const u = Array.isArray(r?.unknown) ? r.unknown : [];
  if (!u.length) return null;
  return notice('warn', `${num(u.length)} ${u.length === 1 ? 'id was' : 'ids were'} not found among your users and ${u.length === 1 ? 'was' : 'were'} skipped: `, h('code', {}, u.slice(0, 20).join(', ')), u.length > 20 ? ` and ${num(u.length - 20)} more` : '');
}

export { when };
