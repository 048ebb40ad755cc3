// Server-rendered HTML for the admin page: the login form and the shell the page's modules run in.
// Every dynamic value goes through esc(); the page itself builds its DOM with textContent, never innerHTML.

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function head(title: string, extra = '') {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/assets/style.css">
${extra}</head>`;
}

export function loginPage(opts: { csrf: string; error?: string; next?: string }) {
  return `${head('Sign in · Audience Gateway')}
<body class="login-body">
<main class="login-card">
  <h1 class="brand"><span class="brand-mark" aria-hidden="true"></span>Audience Gateway</h1>
  <p class="muted">Sign in with the admin password. It is the <code>ADMIN_PASSWORD</code> setting, or the one printed when the gateway first started.</p>
  <form method="post" action="/admin/login" class="stack" novalidate>
    <input type="hidden" name="csrf" value="${esc(opts.csrf)}">
    ${opts.next ? `<input type="hidden" name="next" value="${esc(opts.next)}">` : ''}
    <div class="field">
      <label for="password">Admin password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required autofocus
        ${opts.error ? 'aria-invalid="true" aria-describedby="password-error"' : ''}>
      ${opts.error ? `<p class="field-error" id="password-error" role="alert">${esc(opts.error)}</p>` : ''}
    </div>
    <button type="submit" class="btn primary">Sign in</button>
  </form>
</main>
</body>
</html>`;
}

export function shellPage(opts: { csrf: string; publicUrl: string }) {
  return `${head(
    'Audience Gateway',
    `<meta name="csrf-token" content="${esc(opts.csrf)}">
<meta name="public-url" content="${esc(opts.publicUrl)}">
<script type="module" src="/admin/assets/app.js"></script>
`,
  )}
<body>
<a class="skip" href="#main">Skip to content</a>
<div class="layout">
  <header class="sidebar">
    <div class="sidebar-top">
      <a class="brand" href="/admin"><span class="brand-mark" aria-hidden="true"></span>Audience Gateway</a>
      <button type="button" class="btn ghost menu-toggle" id="menu-toggle" aria-expanded="false" aria-controls="nav">Menu</button>
    </div>
    <nav id="nav" aria-label="Main">
      <div class="field ws-switch">
        <label for="workspace-select">Workspace</label>
        <select id="workspace-select"><option value="">Loading…</option></select>
      </div>
      <ul class="nav-list" id="nav-list"></ul>
      <form method="post" action="/admin/logout" class="logout">
        <input type="hidden" name="csrf" value="${esc(opts.csrf)}">
        <button type="submit" class="btn ghost">Sign out</button>
      </form>
    </nav>
  </header>
  <main id="main" tabindex="-1">
    <div id="view"><p class="loading">Loading…</p></div>
  </main>
</div>
<div id="toasts" class="toasts" role="status" aria-live="polite"></div>
<noscript><p class="card">The admin page needs JavaScript.</p></noscript>
</body>
</html>`;
}
