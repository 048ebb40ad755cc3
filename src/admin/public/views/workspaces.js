// Workspaces: list, create, switch.
import { api, showFieldErrors } from '../api.js';
import { h, field, input, button, busy, table, empty, notice, pageHead, when, errorNotice } from '../ui.js';

export async function render(root, ctx) {
  const listBox = h('div', {});
  const nameField = field('Name', input({ name: 'name', placeholder: 'e.g. Acme production', autocomplete: 'off' }), { hint: 'Usually one workspace per product and environment.' });
  const formNotice = h('div', {});
  const createBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Create workspace');
  const form = h('form', { class: 'card stack', novalidate: true }, h('h2', {}, 'New workspace'), formNotice, nameField, h('div', {}, createBtn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formNotice.replaceChildren();
    const name = nameField.input.value.trim();
    if (!name) return nameField.setError('Give the workspace a name.');
    nameField.setError(null);
    try {
      const ws = await busy(createBtn, () => api.post('/workspaces', { name }), 'Creating…');
      await ctx.loadWorkspaces(true);
      ctx.handoff.newIngestKey = { workspaceId: ws.id, key: ws.ingestKey };
      ctx.navigate(`/admin/w/${ws.id}/connect`);
    } catch (err) {
      const rest = showFieldErrors(err, { name: nameField });
      if (rest.length) formNotice.replaceChildren(notice('bad', rest.join(' ')));
    }
  });

  root.append(pageHead('Workspaces', 'Each workspace has its own ingest key, users, segments and integrations.'), listBox, form);

  try {
    const all = await ctx.loadWorkspaces(true);
    if (!all.length) {
      listBox.append(empty('No workspaces yet. Create the first one below.'));
      nameField.input.focus();
      return;
    }
    listBox.append(
      table(
        [
          { label: 'Name', cell: (w) => h('a', { href: `/admin/w/${w.id}/connect` }, w.name) },
          { label: 'Ingest key', cell: (w) => h('code', {}, w.ingestKeyHint) },
          { label: 'Created', cell: (w) => when(w.createdAt) },
          { label: '', cell: (w) => button('Open', () => ctx.navigate(`/admin/w/${w.id}/segments`), 'small') },
        ],
        all,
        { caption: 'Workspaces' },
      ),
      h('div', { class: 'spacer' }),
    );
    listBox.lastChild.style.height = '16px';
  } catch (err) {
    listBox.append(errorNotice(err));
  }
}
