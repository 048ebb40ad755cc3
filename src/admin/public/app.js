// The admin page's router: real /admin/... paths (the server answers every one with this shell), one view per page.
import { api, workspaceApi } from './api.js';
import { h, clear, replace, loading, errorNotice, select } from './ui.js';

const routes = [
  { path: /^\/admin\/?$/, view: () => import('./views/home.js') },
  { path: /^\/admin\/workspaces\/?$/, view: () => import('./views/workspaces.js') },
  { path: /^\/admin\/w\/([^/]+)\/connect\/?$/, nav: 'connect', view: () => import('./views/connect.js') },
  { path: /^\/admin\/w\/([^/]+)\/segments\/?$/, nav: 'segments', view: () => import('./views/segments.js') },
  { path: /^\/admin\/w\/([^/]+)\/segments\/new\/?$/, nav: 'segments', view: () => import('./views/builder.js') },
  { path: /^\/admin\/w\/([^/]+)\/segments\/([^/]+)\/edit\/?$/, nav: 'segments', view: () => import('./views/builder.js') },
  { path: /^\/admin\/w\/([^/]+)\/segments\/([^/]+)\/?$/, nav: 'segments', view: () => import('./views/segment.js') },
  { path: /^\/admin\/w\/([^/]+)\/audiences\/?$/, nav: 'audiences', view: () => import('./views/audiences.js') },
  { path: /^\/admin\/w\/([^/]+)\/outbound\/?$/, nav: 'outbound', view: () => import('./views/outbound.js') },
  { path: /^\/admin\/w\/([^/]+)\/hooks\/?$/, nav: 'hooks', view: () => import('./views/hooks.js') },
  { path: /^\/admin\/w\/([^/]+)\/users\/?$/, nav: 'users', view: () => import('./views/users.js') },
];

const NAV = [
  ['connect', 'Connect Segment'],
  ['segments', 'Segments'],
  ['audiences', 'Audiences'],
  ['users', 'Users'],
  ['outbound', 'Send to Segment'],
  ['hooks', 'Webhooks & Slack'],
];

const view = document.getElementById('view');
let cleanup = null;
let workspaces = null;
/** Values handed from one page to the next without putting them in the URL (e.g. a new ingest key, shown once). */
export const handoff = {};

export async function loadWorkspaces(force = false) {
  if (!workspaces || force) workspaces = (await api.get('/workspaces')).workspaces;
  return workspaces;
}

export function navigate(path, { replace: rep = false } = {}) {
  if (rep) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

async function renderNav(wsId, active) {
  const list = document.getElementById('nav-list');
  const sel = document.getElementById('workspace-select');
  let all = [];
  try {
    all = await loadWorkspaces();
  } catch {
    /* the view shows the error */
  }
  const options = [['', all.length ? 'Choose a workspace…' : 'No workspaces yet'], ...all.map((w) => [w.id, w.name])];
  const fresh = select(options, { id: 'workspace-select', value: wsId ?? '' });
  fresh.addEventListener('change', () => {
    if (fresh.value) navigate(`/admin/w/${fresh.value}/${active && active !== 'workspaces' ? active : 'connect'}`);
  });
  sel.replaceWith(fresh);
  clear(list);
  if (wsId) {
    for (const [key, label] of NAV) {
      list.append(h('li', {}, h('a', { href: `/admin/w/${wsId}/${key}`, 'aria-current': key === active ? 'page' : null }, label)));
    }
  }
  list.append(h('li', {}, h('a', { href: '/admin/workspaces', 'aria-current': active === 'workspaces' ? 'page' : null }, 'All workspaces')));
}

async function render() {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* ignore */
    }
    cleanup = null;
  }
  document.getElementById('nav')?.classList.remove('open');
  document.getElementById('menu-toggle')?.setAttribute('aria-expanded', 'false');
  const path = location.pathname;
  const route = routes.find((r) => r.path.test(path));
  replace(view, loading());
  if (!route) {
    replace(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/admin' }, 'Back to the start')));
    return;
  }
  const m = path.match(route.path);
  const params = m.slice(1).map(decodeURIComponent);
  const wsId = route.nav ? params[0] : null;
  if (wsId) localStorage.setItem('ag.workspace', wsId);
  void renderNav(wsId, route.nav ?? (path.startsWith('/admin/workspaces') ? 'workspaces' : null));
  const ctx = {
    params,
    query: new URLSearchParams(location.search),
    ws: wsId ? workspaceApi(wsId) : null,
    wsId,
    navigate,
    handoff,
    loadWorkspaces,
  };
  try {
    const mod = await route.view();
    const root = h('div', {});
    replace(view, root);
    const result = await mod.render(root, ctx);
    if (typeof result === 'function') cleanup = result;
    const title = root.querySelector('h1')?.textContent;
    document.title = title ? `${title} · Audience Gateway` : 'Audience Gateway';
  } catch (err) {
    replace(view, h('h1', {}, 'Something went wrong'), errorNotice(err));
  }
}

// Same-origin links inside /admin are handled here; everything else is a normal navigation.
document.addEventListener('click', (e) => {
  const a = e.target.closest?.('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/admin') || url.pathname.startsWith('/admin/assets')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
  document.getElementById('main')?.focus();
});
window.addEventListener('popstate', () => void render());
document.getElementById('menu-toggle')?.addEventListener('click', (e) => {
  const nav = document.getElementById('nav');
  const open = !nav.classList.contains('open');
  nav.classList.toggle('open', open);
  e.currentTarget.setAttribute('aria-expanded', String(open));
});

void render();
