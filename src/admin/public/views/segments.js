// Segments: list with type, status, size and a small size-over-time chart; archived behind a filter.
import { h, table, empty, pageHead, statusBadge, badge, num, sparkline, errorNotice, timeEl, select, replace, loading } from '../ui.js';

export const listOf = (r, key) => (Array.isArray(r) ? r : r?.[key] ?? []);
const TYPE_LABEL = { dynamic: 'Rule-based', static: 'Manual list', everyone: 'Everyone' };
export const typeLabel = (t) => TYPE_LABEL[t] ?? t;

export async function render(root, ctx) {
  const archived = ctx.query.get('status') === 'archived';
  const filter = select([['current', 'Active, paused and drafts'], ['archived', 'Archived']], { id: 'segment-filter', value: archived ? 'archived' : 'current' });
  filter.addEventListener('change', () => ctx.navigate(`/admin/w/${ctx.wsId}/segments${filter.value === 'archived' ? '?status=archived' : ''}`));
  const newLinks = h(
    'div',
    { class: 'row' },
    h('a', { class: 'btn primary', href: `/admin/w/${ctx.wsId}/segments/new?type=dynamic` }, 'New rule-based segment'),
    h('a', { class: 'btn', href: `/admin/w/${ctx.wsId}/segments/new?type=static` }, 'New manual list'),
  );
  const box = h('div', {}, loading());
  root.append(
    pageHead('Segments', 'Groups of users, kept up to date as events arrive.', newLinks),
    h('div', { class: 'row', style: null }, h('label', { for: 'segment-filter', class: 'label' }, 'Show'), h('div', {}, filter)),
    h('div', { class: 'spacer-16' }),
    box,
  );
  root.querySelector('.spacer-16').style.height = '12px';

  try {
    const segments = listOf(await ctx.ws.get(`/segments${archived ? '?status=archived' : ''}`), 'segments');
    if (!segments.length) {
      replace(box, empty(archived ? 'No archived segments.' : 'No segments yet. A segment is a group of users, such as “Pro plan users who clicked Upgrade 3 times this month”.', archived ? null : h('a', { class: 'btn primary', href: `/admin/w/${ctx.wsId}/segments/new?type=dynamic` }, 'Build your first segment')));
      return;
    }
    let history = {};
    let sizes = {};
    try {
      // 100 ids a request keeps the URL well under the server's header limit.
      const chunks = [];
      for (let i = 0; i < segments.length; i += 100) chunks.push(segments.slice(i, i + 100).map((s) => s.id).join(','));
      const parts = await Promise.all(chunks.map((ids) => ctx.ws.get(`/size-history?segmentIds=${ids}&points=30`)));
      for (const p of parts) {
        Object.assign(history, p.history);
        Object.assign(sizes, p.sizes);
      }
    } catch {
      history = {};
    }
    replace(
      box,
      table(
        [
          { label: 'Name', cell: (s) => h('div', {}, h('a', { href: `/admin/w/${ctx.wsId}/segments/${s.id}` }, s.name), s.description ? h('div', { class: 'muted small' }, s.description) : null) },
          { label: 'Type', cell: (s) => badge(typeLabel(s.type)) },
          { label: 'Status', cell: (s) => statusBadge(s.status) },
          { label: 'Size', num: true, cell: (s) => (s.status === 'draft' && s.type === 'dynamic' ? h('span', { class: 'muted' }, 'not evaluated') : num(s.size ?? sizes?.[s.id] ?? history[s.id]?.at(-1)?.size)) },
          { label: 'Last 30 evaluations', cell: (s) => sparkline(history[s.id] ?? [], { label: `${s.name} size` }) },
          { label: 'Updated', cell: (s) => timeEl(s.updatedAt ?? s.createdAt) },
        ],
        segments,
        { caption: 'Segments' },
      ),
    );
  } catch (err) {
    replace(box, errorNotice(err));
  }
}
