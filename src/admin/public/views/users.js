// Users: search, filter and page through the workspace's users; open one; add a selection to a manual list.
import { h, field, input, select, button, busy, table, empty, notice, pageHead, num, errorNotice, replace, toast, loading, timeEl, errorText, nextId } from '../ui.js';
import { listOf } from './segments.js';

export async function render(root, ctx) {
  const segments = await ctx.ws.get('/segments').then((r) => listOf(r, 'segments')).catch(() => []);
  const q = field('Search', input({ type: 'search', placeholder: 'User id, email or name', value: ctx.query.get('q') ?? '', autocomplete: 'off' }));
  const seg = field('In segment', select([['', 'Any'], ...segments.map((s) => [s.id, s.name])], { value: ctx.query.get('segmentId') ?? '' }));
  const seen = field('Seen within', select([['', 'Any time'], ['1', '1 day'], ['7', '7 days'], ['30', '30 days'], ['90', '90 days']], { value: ctx.query.get('seenWithinDays') ?? '' }));
  const resp = field('Responded within', select([['', 'Any time'], ['7', '7 days'], ['30', '30 days'], ['90', '90 days']], { value: ctx.query.get('respondedWithinDays') ?? '' }));
  const sort = field('Sort by', select([['lastSeenAt', 'Last seen'], ['firstSeenAt', 'First seen'], ['lastSurveyResponseAt', 'Last response']], { value: ctx.query.get('sort') ?? 'lastSeenAt' }));
  const go = h('button', { type: 'submit', class: 'btn primary' }, 'Search');
  const filters = h('form', { class: 'card', novalidate: true, role: 'search' }, h('div', { class: 'form-grid' }, q, seg, seen, resp, sort), h('div', { class: 'row form-actions' }, go));
  const box = h('div', {}, loading());
  const detail = h('div', { id: 'user-detail' });
  root.append(pageHead('Users', 'Everyone who sent an event or answered a survey.'), filters, box, detail);

  const params = () => {
    const p = new URLSearchParams();
    if (q.input.value.trim()) p.set('q', q.input.value.trim());
    for (const [k, f] of [['segmentId', seg], ['seenWithinDays', seen], ['respondedWithinDays', resp], ['sort', sort]]) if (f.input.value) p.set(k, f.input.value);
    return p;
  };
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(`${location.pathname}?${params()}`, { replace: true });
  });

  const segNames = new Map(segments.map((s) => [s.id, s.name]));
  const statics = segments.filter((s) => s.type === 'static' && s.status !== 'archived');
  let cursor = null;
  const rows = [];
  const more = button('Load more', () => void load(), '');
  const selected = new Set();
  const target = select([['', statics.length ? 'Add selected to…' : 'No manual lists yet'], ...statics.map((s) => [s.id, s.name])], { 'aria-label': 'Manual segment' });
  const addBtn = button('Add', async () => {
    if (!target.value || !selected.size) return toast(!selected.size ? 'Select some users first' : 'Choose a manual list', 'bad');
    try {
      const r = await busy(addBtn, () => ctx.ws.post(`/segments/${target.value}/members`, { userIds: [...selected], mode: 'add' }));
      const name = statics.find((s) => s.id === target.value)?.name ?? 'the list';
      toast(typeof r?.added === 'number' ? `${num(r.added)} added to ${name}` : `Added to ${name}`);
    } catch (err) {
      toast(errorText(err), 'bad');
    }
  });

  async function load() {
    try {
      const p = params();
      p.set('limit', '50');
      if (cursor) p.set('cursor', cursor);
      const r = await ctx.ws.get(`/users?${p}`);
      rows.push(...listOf(r, 'users'));
      cursor = r.nextCursor ?? null;
      if (!rows.length) return replace(box, empty('No users match.'));
      more.hidden = !cursor;
      const check = (u) => {
        const id = nextId('sel');
        const c = h('input', { type: 'checkbox', id, checked: selected.has(u.userId), 'aria-label': `Select ${u.userId}` });
        c.addEventListener('change', () => (c.checked ? selected.add(u.userId) : selected.delete(u.userId)));
        return c;
      };
      replace(box,
        h('div', { class: 'row', style: null }, target, addBtn, h('span', { class: 'muted small' }, r.total !== undefined ? `${num(r.total)} users` : '')),
        h('div', { style: null }, table([
          { label: '', cell: check },
          { label: 'User', cell: (u) => h('a', { href: '#', onClick: (e) => { e.preventDefault(); void openUser(u.userId); } }, u.userId) },
          { label: 'Email', cell: (u) => u.email ?? u.traits?.email ?? '—' },
          { label: 'Name', cell: (u) => u.name ?? u.traits?.name ?? '—' },
          { label: 'First seen', cell: (u) => timeEl(u.firstSeenAt) },
          { label: 'Last seen', cell: (u) => timeEl(u.lastSeenAt) },
          { label: 'Last response', cell: (u) => timeEl(u.lastSurveyResponseAt) },
          { label: 'Segments', cell: (u) => (u.segments ?? []).map((id) => segNames.get(id) ?? '').filter(Boolean).join(', ') || '—' },
        ], rows, { caption: 'Users' })),
        h('div', { class: 'row', style: null }, more));
    } catch (err) {
      replace(box, errorNotice(err));
    }
  }

  async function openUser(userId) {
    replace(detail, loading());
    try {
      const u = await ctx.ws.get(`/users/${encodeURIComponent(userId)}`);
      const entries = u.segmentEntries ?? (u.segments ?? []).map((id) => ({ segmentId: id, name: segNames.get(id) ?? id }));
      replace(detail, h('section', { class: 'card stack' }, h('h2', {}, u.name ? `${u.name} (${u.userId})` : u.userId),
        h('p', { class: 'small' }, u.email ? [u.email, ' · '] : null, 'first seen ', timeEl(u.firstSeenAt), ' · last seen ', timeEl(u.lastSeenAt), ' · last response ', timeEl(u.lastSurveyResponseAt)),
        h('h3', {}, 'Segments'),
        entries.length ? table([{ label: 'Segment', cell: (e) => h('a', { href: `/admin/w/${ctx.wsId}/segments/${e.segmentId}` }, e.name ?? e.segmentId) }, { label: 'Entered', cell: (e) => timeEl(e.enteredAt) }], entries) : h('p', { class: 'muted' }, 'Not in any segment.'),
        h('h3', {}, 'Traits'), h('pre', { class: 'json' }, JSON.stringify(u.traits ?? {}, null, 2)),
        u.accounts?.length ? [h('h3', {}, 'Accounts'), h('p', {}, u.accounts.map((a) => a.groupId).join(', '))] : null,
        u.recentEvents?.length ? [h('h3', {}, 'Recent events'), table([{ label: 'Event', cell: (e) => e.event ?? e.type }, { label: 'When', cell: (e) => timeEl(e.timestamp) }], u.recentEvents.slice(0, 20))] : null,
        u.responses?.length ? [h('h3', {}, 'Survey responses'), table([{ label: 'Survey', cell: (r) => r.surveyName ?? r.surveyId }, { label: 'Answers', cell: (r) => h('code', {}, JSON.stringify(r.answers)) }, { label: 'When', cell: (r) => timeEl(r.completedAt) }], u.responses.slice(0, 20))] : null,
        u.membershipLog?.length ? [h('h3', {}, 'Membership log'), table([{ label: 'Segment', cell: (l) => l.segmentName ?? l.segmentId }, { label: 'Change', cell: (l) => l.change }, { label: 'When', cell: (l) => timeEl(l.at) }], u.membershipLog.slice(0, 30))] : null));
      detail.scrollIntoView({ block: 'start' });
    } catch (err) {
      replace(detail, notice('bad', errorText(err)));
    }
  }

  await load();
}
