// Segment builder: nested all/any/not groups, every condition type, a live preview count and sample.
import { showFieldErrors } from '../api.js';
import { h, field, input, select, button, busy, notice, pageHead, num, debounce, replace, errorText, toast, nextId } from '../ui.js';
import { listOf, typeLabel } from './segments.js';
import {
  OPS, TRAIT_OPS, ATTRIBUTE_OPS, PROPERTY_OPS, ANSWER_OPS, COUNT_OPS, KINDS, ATTRIBUTES,
  valueKind, newCondition, newGroup, toDefinition, fromDefinition, problems, allProblems,
} from './definition.js';

const opOptions = (ops) => ops.map((o) => [o, OPS[o]]);

export async function render(root, ctx) {
  const editingId = ctx.params[1] ?? null;
  const existing = editingId ? await ctx.ws.get(`/segments/${editingId}`) : null;
  const type = existing?.type ?? (['dynamic', 'static', 'everyone'].includes(ctx.query.get('type')) ? ctx.query.get('type') : 'dynamic');

  // Data for suggestions and pickers; each is optional (an area may not be installed yet).
  const [suggestions, segments, surveys] = await Promise.all([
    ctx.ws.get('/suggestions').catch(() => ({ events: [], traits: [], accountTraits: [], properties: [] })),
    ctx.ws.get('/segments').then((r) => listOf(r, 'segments')).catch(() => []),
    ctx.ws.get('/surveys').then((r) => listOf(r, 'surveys')).catch(() => null),
  ]);
  const lists = h(
    'div',
    { hidden: true },
    datalist('dl-events', suggestions.events),
    datalist('dl-traits', suggestions.traits),
    datalist('dl-account-traits', suggestions.accountTraits),
    datalist('dl-properties', suggestions.properties),
  );

  let tree = existing?.definition ? fromDefinition(existing.definition) : newGroup('all', [newCondition('trait')]);
  let focusAfterRender = null;

  // Name, description, type.
  const nameField = field('Name', input({ value: existing?.name ?? '', placeholder: 'e.g. Engaged pro users', autocomplete: 'off' }));
  const descField = field('Description (optional)', input({ value: existing?.description ?? '', autocomplete: 'off' }));
  const typeSel = select([['dynamic', 'Rule-based: users who match conditions'], ['static', 'Manual list: users you add'], ['everyone', 'Everyone: all users']], { value: type, disabled: Boolean(existing) });
  const typeField = field('Type', typeSel, { hint: existing ? 'The type of a saved segment cannot change.' : null });
  typeSel.addEventListener('change', () => ctx.navigate(`/admin/w/${ctx.wsId}/segments/new?type=${typeSel.value}`, { replace: true }));
  const schedCron = field('Re-check schedule (optional)', input({ value: existing?.schedule?.cron ?? '', placeholder: 'e.g. 0 * * * * for hourly', autocomplete: 'off' }), { hint: 'A cron expression. Rules with time windows (“seen in the last 7 days”) change as time passes; a schedule re-checks everyone.' });
  const schedTz = field('Time zone', input({ value: existing?.schedule?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC' }));

  const formNotice = h('div', {});
  const treeBox = h('div', { class: 'tree' });
  const treeHelp = h('p', { class: 'muted small' }, 'Users must match the conditions below. Names of events and traits seen in your data are suggested as you type.');

  // Live preview.
  const countEl = h('div', { class: 'count', id: 'preview-count' }, '—');
  const previewState = h('p', { class: 'muted small', id: 'preview-state' }, 'Complete the conditions to see how many users match.');
  const sampleList = h('ul', { class: 'sample', id: 'preview-sample', 'aria-label': 'Sample of matching users' });
  const preview = h('aside', { class: 'card preview', 'aria-live': 'polite', 'aria-label': 'Live preview' }, h('h2', {}, 'Matching users now'), countEl, previewState, sampleList);

  let seq = 0;
  const runPreview = debounce(async () => {
    const my = ++seq;
    if (allProblems(tree)) {
      countEl.textContent = '—';
      previewState.textContent = 'Finish the highlighted fields to see how many users match.';
      sampleList.replaceChildren();
      return;
    }
    previewState.textContent = 'Counting…';
    try {
      const r = await ctx.ws.post('/segments/preview', { definition: toDefinition(tree) });
      if (my !== seq) return;
      countEl.textContent = num(r.count);
      previewState.textContent = r.count === 1 ? 'user matches right now' : 'users match right now';
      sampleList.replaceChildren(...(r.sample ?? []).map((u) => h('li', { title: u }, u)));
      if (r.count && r.sample?.length < r.count) sampleList.append(h('li', { class: 'muted' }, `… and ${num(r.count - r.sample.length)} more`));
    } catch (err) {
      if (my !== seq) return;
      countEl.textContent = '—';
      sampleList.replaceChildren();
      const placed = placeServerIssues(err);
      previewState.textContent = placed ? 'The gateway cannot count this yet: see the marked condition.' : errorText(err);
    }
  }, 450);

  // A 400 from the server names the node by path (definition.all.1.value): show the message on that condition.
  const serverErrors = new Map();
  function nodeAt(path) {
    const parts = String(path).split('.');
    if (parts[0] !== 'definition') return null;
    let node = tree;
    let i = 1;
    while (i < parts.length && node.kind === 'group') {
      if (node.negate) {
        if (parts[i] !== 'not') break;
        i++;
      }
      if (parts[i] !== node.match || !/^\d+$/.test(parts[i + 1] ?? '')) break;
      const child = node.children[Number(parts[i + 1])];
      if (!child) break;
      node = child;
      i += 2;
    }
    return node;
  }
  function placeServerIssues(err) {
    serverErrors.clear();
    const issues = err?.status === 400 && Array.isArray(err.details) ? err.details : [];
    for (const issue of issues) {
      const node = nodeAt(issue.path);
      if (node) serverErrors.set(node, [serverErrors.get(node), issue.message].filter(Boolean).join(' '));
    }
    refreshProblems();
    return serverErrors.size > 0;
  }

  function changed({ rerender = false } = {}) {
    serverErrors.clear();
    if (rerender) renderTree();
    else refreshProblems();
    runPreview();
  }

  // Each node's problem messages live next to its fields; inputs update the model without re-rendering.
  const problemSlots = new Map();
  function refreshProblems() {
    for (const [node, slots] of problemSlots) {
      const p = { ...problems(node), server: serverErrors.get(node) };
      for (const [key, slot] of Object.entries(slots)) {
        const msg = slot.touched() ? p[key] : null;
        slot.el.textContent = msg ?? '';
        slot.el.hidden = !msg;
        slot.input?.setAttribute('aria-invalid', msg ? 'true' : 'false');
      }
    }
  }

  function renderTree() {
    problemSlots.clear();
    replace(treeBox, renderGroup(tree, null));
    refreshProblems();
    if (focusAfterRender) {
      const el = treeBox.querySelector(`[data-focus="${focusAfterRender}"]`);
      el?.focus();
      focusAfterRender = null;
    }
  }

  function slot(node, key, inputEl) {
    const el = h('p', { class: 'field-error', hidden: true, id: nextId('err') });
    if (inputEl) inputEl.setAttribute('aria-describedby', el.id);
    let touched = Boolean(existing) || submitted;
    if (inputEl) inputEl.addEventListener('blur', () => { touched = true; refreshProblems(); });
    const entry = problemSlots.get(node) ?? {};
    entry[key] = { el, input: inputEl, touched: () => key === 'server' || touched || submitted };
    problemSlots.set(node, entry);
    return el;
  }
  let submitted = false;

  function fieldFor(node, key, label, control) {
    return h('div', { class: 'field' }, h('label', { for: control.id || (control.id = nextId('c')) }, label), control, slot(node, key, control));
  }

  function bindText(node, key, el, { rerender = false } = {}) {
    el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => {
      node[key] = el.type === 'checkbox' ? el.checked : el.value;
      changed({ rerender });
    });
    return el;
  }

  function renderGroup(group, parent) {
    const matchSel = select([['all', 'All of'], ['any', 'Any of']], { value: group.match, 'aria-label': 'Match' });
    bindText(group, 'match', matchSel);
    const negate = h('input', { type: 'checkbox', checked: group.negate, id: nextId('neg') });
    negate.addEventListener('change', () => { group.negate = negate.checked; changed({ rerender: true }); });
    const head = h(
      'div',
      { class: 'group-head' },
      h('label', { class: 'check' }, negate, 'Not'),
      matchSel,
      h('span', { class: 'muted small' }, group.negate ? 'these must NOT hold' : 'these conditions'),
      h('span', { class: 'spacer' }),
      parent ? button('Remove group', () => { parent.children.splice(parent.children.indexOf(group), 1); changed({ rerender: true }); }, 'small ghost danger') : null,
    );
    const children = h('div', { class: 'children' }, group.children.map((c) => (c.kind === 'group' ? renderGroup(c, group) : renderCondition(c, group))));
    const addCond = button('+ Condition', () => {
      const c = newCondition('trait');
      group.children.push(c);
      focusAfterRender = `n${Math.random().toString(36).slice(2)}`;
      c.focusKey = focusAfterRender;
      changed({ rerender: true });
    }, 'small');
    const addGroup = button('+ Group', () => {
      const g = newGroup(group.match === 'all' ? 'any' : 'all', [newCondition('trait')]);
      group.children.push(g);
      changed({ rerender: true });
    }, 'small');
    const err = [slot(group, 'children', null), slot(group, 'server', null)];
    return h('div', { class: `group${group.negate ? ' negated' : ''}`, role: 'group', 'aria-label': `${group.negate ? 'Not ' : ''}${group.match} of` }, head, children, err, h('div', { class: 'row', style: null }, addCond, addGroup));
  }

  function renderCondition(node, parent) {
    const kindSel = select(KINDS, { value: node.kind, 'aria-label': 'Condition type' });
    if (node.focusKey) kindSel.setAttribute('data-focus', node.focusKey);
    kindSel.addEventListener('change', () => {
      const fresh = newCondition(kindSel.value);
      parent.children[parent.children.indexOf(node)] = fresh;
      changed({ rerender: true });
    });
    const remove = button('Remove', () => { parent.children.splice(parent.children.indexOf(node), 1); changed({ rerender: true }); }, 'small ghost danger', { 'aria-label': 'Remove condition' });
    return h('div', { class: 'cond' }, h('div', { class: 'cond-grid' }, h('div', { class: 'field' }, h('label', { class: 'label', for: kindSel.id || (kindSel.id = nextId('k')) }, 'Condition'), kindSel), ...conditionFields(node)), slot(node, 'server', null), h('div', { class: 'cond-actions' }, h('span'), remove));
  }

  function comparisonFields(node, ops, { valueKey = 'value', daysKey = 'days', opKey = 'op', prefix = '' } = {}) {
    const opSel = select(opOptions(ops), { value: node[opKey] });
    bindText(node, opKey, opSel, { rerender: true });
    const out = [fieldFor(node, `${prefix}op`, 'Operator', opSel)];
    const k = valueKind(node[opKey]);
    if (k === 'days') {
      out.push(fieldFor(node, `${prefix}days`, 'Days', bindText(node, daysKey, input({ type: 'number', min: '1', value: node[daysKey], inputmode: 'numeric' }))));
    } else if (k === 'date') {
      out.push(fieldFor(node, `${prefix}value`, 'Date', bindText(node, valueKey, input({ type: 'date', value: String(node[valueKey]).slice(0, 10) }))));
    } else if (k !== 'none') {
      const label = k === 'list' ? 'Values (comma separated)' : k === 'number' ? 'Number' : 'Value';
      out.push(fieldFor(node, `${prefix}value`, label, bindText(node, valueKey, input({ value: node[valueKey], type: k === 'number' ? 'number' : 'text', step: 'any' }))));
    }
    return out;
  }

  function conditionFields(node) {
    switch (node.kind) {
      case 'trait':
      case 'accountTrait':
        return [
          fieldFor(node, 'name', node.kind === 'trait' ? 'Trait' : 'Account trait', bindText(node, 'name', input({ value: node.name, list: node.kind === 'trait' ? 'dl-traits' : 'dl-account-traits', placeholder: node.kind === 'trait' ? 'e.g. plan' : 'e.g. employees', autocomplete: 'off' }))),
          ...comparisonFields(node, TRAIT_OPS),
        ];
      case 'attribute':
        return [fieldFor(node, 'name', 'Date', bindText(node, 'name', select(ATTRIBUTES, { value: node.name }))), ...comparisonFields(node, ATTRIBUTE_OPS)];
      case 'event': {
        const perf = select([['yes', 'performed'], ['no', 'did not perform']], { value: node.performed ? 'yes' : 'no' });
        perf.addEventListener('change', () => { node.performed = perf.value === 'yes'; changed({ rerender: true }); });
        const out = [
          fieldFor(node, 'name', 'Event', bindText(node, 'name', input({ value: node.name, list: 'dl-events', placeholder: 'e.g. Clicked Upgrade', autocomplete: 'off' }))),
          fieldFor(node, 'performed', 'User', perf),
        ];
        if (node.performed) {
          out.push(fieldFor(node, 'countOp', 'How often', bindText(node, 'countOp', select(COUNT_OPS, { value: node.countOp }))));
          out.push(fieldFor(node, 'countValue', 'Times', bindText(node, 'countValue', input({ type: 'number', min: '0', value: node.countValue, inputmode: 'numeric' }))));
        }
        out.push(fieldFor(node, 'withinDays', 'In the last … days', bindText(node, 'withinDays', input({ type: 'number', min: '1', value: node.withinDays, placeholder: 'all time', inputmode: 'numeric' }))));
        const where = h('div', { class: 'where', style: null }, node.where.map((w, i) => {
          const opSel = select(opOptions(PROPERTY_OPS), { value: w.op });
          opSel.addEventListener('change', () => { w.op = opSel.value; changed({ rerender: true }); });
          const nameIn = input({ value: w.name, list: 'dl-properties', placeholder: 'property', autocomplete: 'off' });
          nameIn.addEventListener('input', () => { w.name = nameIn.value; changed(); });
          const k = valueKind(w.op);
          const valIn = k === 'none' ? null : input({ value: w.value, type: k === 'number' ? 'number' : k === 'date' ? 'date' : 'text', step: 'any', placeholder: k === 'list' ? 'a, b, c' : 'value' });
          valIn?.addEventListener('input', () => { w.value = valIn.value; changed(); });
          return h('div', { class: 'cond-grid' },
            fieldFor(node, `where${i}name`, 'Where property', nameIn),
            fieldFor(node, `where${i}op`, 'Operator', opSel),
            valIn ? fieldFor(node, `where${i}value`, 'Value', valIn) : h('span'),
            h('div', {}, button('Remove filter', () => { node.where.splice(i, 1); changed({ rerender: true }); }, 'small ghost danger')));
        }), button('+ Property filter', () => { node.where.push({ name: '', op: 'eq', value: '' }); changed({ rerender: true }); }, 'small ghost'));
        where.style.gridColumn = '1 / -1';
        out.push(where);
        return out;
      }
      case 'answer': {
        const out = [];
        if (surveys) {
          const surveySel = select([['', 'Choose a survey…'], ...surveys.map((s) => [s.id, s.name])], { value: node.survey });
          surveySel.addEventListener('change', () => { node.survey = surveySel.value; node.question = ''; changed({ rerender: true }); });
          out.push(fieldFor(node, 'survey', 'Survey', surveySel));
          const qs = surveys.find((s) => s.id === node.survey)?.questions ?? [];
          out.push(fieldFor(node, 'question', 'Question', bindText(node, 'question', select([['', 'Choose a question…'], ...qs.map((q) => [q.id, q.label || q.id])], { value: node.question }))));
        } else {
          out.push(fieldFor(node, 'survey', 'Survey id', bindText(node, 'survey', input({ value: node.survey, autocomplete: 'off' }))));
          out.push(fieldFor(node, 'question', 'Question id', bindText(node, 'question', input({ value: node.question, placeholder: 'e.g. nps', autocomplete: 'off' }))));
        }
        return [...out, ...comparisonFields(node, ANSWER_OPS)];
      }
      case 'interaction': {
        const surveyCtl = surveys
          ? bindText(node, 'survey', select([['any', 'Any survey'], ...surveys.map((s) => [s.id, s.name])], { value: node.survey }))
          : bindText(node, 'survey', input({ value: node.survey, placeholder: 'any, or a survey id' }));
        const perf = select([['yes', 'has'], ['no', 'has not']], { value: node.performed ? 'yes' : 'no' });
        perf.addEventListener('change', () => { node.performed = perf.value === 'yes'; changed(); });
        return [
          fieldFor(node, 'performed', 'User', perf),
          fieldFor(node, 'interaction', 'Interaction', bindText(node, 'interaction', select([['completed', 'completed'], ['seen', 'seen'], ['dismissed', 'dismissed']], { value: node.interaction }))),
          fieldFor(node, 'survey', 'Survey', surveyCtl),
          fieldFor(node, 'withinDays', 'In the last … days', bindText(node, 'withinDays', input({ type: 'number', min: '1', value: node.withinDays, placeholder: 'all time' }))),
        ];
      }
      case 'segment': {
        const others = segments.filter((s) => s.id !== editingId);
        const member = select([['yes', 'is a member of'], ['no', 'is not a member of']], { value: node.member ? 'yes' : 'no' });
        member.addEventListener('change', () => { node.member = member.value === 'yes'; changed(); });
        return [
          fieldFor(node, 'member', 'User', member),
          fieldFor(node, 'segment', 'Segment', bindText(node, 'segment', select([['', others.length ? 'Choose a segment…' : 'No other segments yet'], ...others.map((s) => [s.id, `${s.name} (${s.status})`])], { value: node.segment }))),
        ];
      }
      default:
        return [];
    }
  }

  // Saving.
  const draftBtn = h('button', { type: 'submit', class: 'btn', value: 'draft' }, existing ? 'Save changes' : 'Save as draft');
  const activateBtn = h('button', { type: 'submit', class: 'btn primary', value: 'activate' }, 'Save and activate');
  if (existing && existing.status !== 'draft') activateBtn.hidden = true;
  const cancel = h('a', { class: 'btn ghost', href: existing ? `/admin/w/${ctx.wsId}/segments/${existing.id}` : `/admin/w/${ctx.wsId}/segments` }, 'Cancel');

  const form = h('form', { class: 'stack', novalidate: true });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submitted = true;
    const activate = e.submitter?.value === 'activate';
    formNotice.replaceChildren();
    nameField.setError(null);
    const name = nameField.input.value.trim();
    let bad = false;
    if (!name) { nameField.setError('Give the segment a name.'); bad = true; }
    if (type === 'dynamic' && allProblems(tree)) {
      refreshProblems();
      formNotice.replaceChildren(notice('bad', 'Some conditions are incomplete; they are marked below.'));
      bad = true;
    }
    if (bad) {
      (form.querySelector('[aria-invalid="true"]'))?.focus();
      return;
    }
    const body = { name, description: descField.input.value.trim() || undefined };
    if (type === 'dynamic') {
      body.definition = toDefinition(tree);
      const cron = schedCron.input.value.trim();
      body.schedule = cron ? { cron, timezone: schedTz.input.value.trim() || 'UTC' } : null;
    }
    const btn = activate ? activateBtn : draftBtn;
    try {
      await busy(btn, async () => {
        let seg;
        if (existing) {
          seg = await ctx.ws.patch(`/segments/${existing.id}`, { ...body, description: body.description ?? null });
        } else {
          if (body.schedule === null) delete body.schedule;
          seg = await ctx.ws.post('/segments', { ...body, type });
        }
        const id = seg.id ?? existing?.id;
        if (activate) await ctx.ws.patch(`/segments/${id}`, { status: 'active' });
        toast(activate ? 'Segment saved and activated' : 'Segment saved');
        ctx.navigate(`/admin/w/${ctx.wsId}/segments/${id}`);
      }, 'Saving…');
    } catch (err) {
      const rest = showFieldErrors(err, { name: nameField, description: descField, schedule: schedCron });
      if (rest.length) formNotice.replaceChildren(notice('bad', `The segment was not saved: ${rest.join(' ')}`));
      formNotice.scrollIntoView({ block: 'nearest' });
    }
  });

  const basics = h('section', { class: 'card' }, h('div', { class: 'form-grid' }, nameField, descField, typeField));
  const actions = h('div', { class: 'row' }, draftBtn, type === 'dynamic' || !existing ? activateBtn : null, cancel);
  if (type === 'dynamic') {
    const rules = h('section', { class: 'card' }, h('h2', {}, 'Conditions'), treeHelp, treeBox);
    const sched = h('details', { class: 'card' }, h('summary', {}, 'Schedule (optional)'), h('div', { class: 'form-grid' }, schedCron, schedTz));
    form.append(formNotice, basics, h('div', { class: 'builder-layout' }, h('div', {}, rules, sched), preview), actions);
  } else {
    form.append(formNotice, basics, notice('info', type === 'static' ? 'After saving, add users by id or upload a CSV on the segment’s page.' : 'An “everyone” segment always holds every user of the workspace.'), actions);
  }

  root.append(pageHead(existing ? `Edit “${existing.name}”` : `New ${typeLabel(type).toLowerCase()} segment`, null), lists, form);
  if (type === 'dynamic') {
    renderTree();
    runPreview();
  }
  if (!existing) nameField.input.focus();
  return () => runPreview.cancel();
}

function datalist(id, values) {
  return h('datalist', { id }, (values ?? []).map((v) => h('option', { value: v })));
}
