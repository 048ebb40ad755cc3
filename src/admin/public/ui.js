// Small DOM helpers. Text always goes in through textContent (never innerHTML), so data can't become markup.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden' || k === 'multiple' || k === 'required') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

/** A labelled field with a place for its error right below the input. */
export function field(label, input, { hint, id } = {}) {
  const inputId = input.id || id || nextId();
  input.id = inputId;
  const err = h('p', { class: 'field-error', id: `${inputId}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${inputId}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: inputId }, label), input, hintEl, err);
  wrap.setError = (msg) => setError(input, err, msg);
  wrap.input = input;
  return wrap;
}

export function setError(input, errEl, msg) {
  if (msg) {
    errEl.textContent = msg;
    errEl.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-errormessage', errEl.id);
  } else {
    errEl.textContent = '';
    errEl.hidden = true;
    input.removeAttribute('aria-invalid');
  }
}

export function input(props = {}) {
  return h('input', { type: 'text', ...props });
}

export function select(options, props = {}) {
  const s = h('select', props);
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value, selected: props.value !== undefined && String(props.value) === String(value) }, label));
  }
  if (props.value !== undefined) s.value = props.value;
  return s;
}

export function button(label, onClick, cls = '', props = {}) {
  return h('button', { type: 'button', class: `btn ${cls}`.trim(), onClick, ...props }, label);
}

/** Runs an async action with the button disabled, showing `busyLabel` meanwhile. */
export async function busy(btn, fn, busyLabel) {
  const label = btn.textContent;
  btn.disabled = true;
  if (busyLabel) btn.textContent = busyLabel;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.textContent = label;
  }
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

export function empty(text, action) {
  return h('div', { class: 'empty' }, h('p', {}, text), action ?? null);
}

export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, ...children);
}

/** A plain-words message for an API error; a route that doesn't exist yet says so. */
export function errorText(err) {
  if (!err) return '';
  if (err.missing) return 'This part of the gateway is not available on this server yet.';
  if (err.status === 0) return 'The gateway could not be reached. Check your connection and try again.';
  return err.message || 'Something went wrong.';
}

export function errorNotice(err) {
  return notice(err?.missing ? 'warn' : 'bad', errorText(err));
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

export function statusBadge(status) {
  const kinds = { active: 'ok', paused: 'warn', archived: '', draft: 'accent', delivered: 'ok', succeeded: 'ok', sent: 'ok', pending: 'accent', retrying: 'warn', failed: 'bad', dead: 'bad' };
  return badge(status ?? '—', kinds[status] ?? '');
}

export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast ${kind}`.trim() }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'bad' ? 7000 : 3500);
}

const nf = new Intl.NumberFormat();
export const num = (n) => (n === null || n === undefined ? '—' : nf.format(n));

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function ago(iso) {
  if (!iso) return '—';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function timeEl(iso) {
  return h('time', { datetime: iso ?? '', title: when(iso) }, ago(iso));
}

/** A readonly value with a Copy button. */
export function copyRow(value, label, { id } = {}) {
  const inp = h('input', { type: 'text', readonly: true, value, id: id ?? nextId('copy'), 'aria-label': label, class: 'mono' });
  const btn = button('Copy', async () => {
    try {
      await navigator.clipboard.writeText(inp.value);
      toast(`${label} copied`);
    } catch {
      inp.select();
      toast('Press Ctrl+C (or ⌘C) to copy');
    }
  }, 'small');
  return h('div', { class: 'copy-row' }, inp, btn);
}

/** A modal yes/no question. Resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = 'Confirm', danger = false) {
  return new Promise((resolve) => {
    const ok = button(confirmLabel, () => close(true), danger ? 'danger' : 'primary');
    const cancel = button('Cancel', () => close(false));
    const dlg = h('dialog', { 'aria-labelledby': 'dlg-title' }, h('h2', { id: 'dlg-title' }, title), h('p', {}, message), h('div', { class: 'row end' }, cancel, ok));
    function close(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

/** A small inline SVG chart of sizes over time. */
export function sparkline(points, { width = 120, height = 28, label = 'Size over time' } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  const values = points.map((p) => p.size);
  const title = document.createElementNS(NS, 'title');
  title.textContent = values.length ? `${label}: ${values.map(num).join(' → ')}` : `${label}: no evaluations yet`;
  svg.append(title);
  svg.setAttribute('aria-label', title.textContent);
  if (!values.length) {
    const line = document.createElementNS(NS, 'path');
    line.setAttribute('d', `M0 ${height - 1} H${width}`);
    line.setAttribute('class', 'line');
    line.setAttribute('stroke-dasharray', '3 3');
    svg.append(line);
    return svg;
  }
  const series = values.length === 1 ? [values[0], values[0]] : values;
  const max = Math.max(...series, 1);
  const min = Math.min(...series, 0);
  const x = (i) => (i / (series.length - 1)) * (width - 2) + 1;
  const y = (v) => height - 2 - ((v - min) / (max - min || 1)) * (height - 4);
  const d = series.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)}`).join(' ');
  const area = document.createElementNS(NS, 'path');
  area.setAttribute('d', `${d} L${x(series.length - 1).toFixed(1)} ${height} L${x(0).toFixed(1)} ${height} Z`);
  area.setAttribute('class', 'area');
  const line = document.createElementNS(NS, 'path');
  line.setAttribute('d', d);
  line.setAttribute('class', 'line');
  svg.append(area, line);
  return svg;
}

export function debounce(fn, ms) {
  let t;
  const wrapped = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(t);
  return wrapped;
}

/** A table from column definitions: [{label, cell: (row) => node|string, num?}]. */
export function table(columns, rows, { caption } = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', { class: 'skip' }, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))),
    ),
  );
}

export function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null), actions.length ? h('div', { class: 'row' }, actions) : null);
}
