// The management API, called with the page session (cookie) and its CSRF token on writes.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    /** The server has no such route: an area of the gateway that is not installed yet. */
    this.missing = status === 404 && /^No route for /.test(message ?? '');
  }
}

async function call(method, path, body, contentType = 'application/json') {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = contentType;
  const payload = body === undefined ? undefined : typeof body === 'string' && contentType !== 'application/json' ? body : JSON.stringify(body);
  let res;
  try {
    res = await fetch(`/api${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The gateway could not be reached');
  }
  if (res.status === 401) {
    location.assign(`/admin/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, 'unauthorized', 'Your session ended; please sign in again');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? 'error', e.message ?? `The gateway answered ${res.status}`, e.details);
  }
  return data;
}

export const api = {
  get: (p) => call('GET', p),
  post: (p, b = {}) => call('POST', p, b),
  put: (p, b = {}) => call('PUT', p, b),
  patch: (p, b = {}) => call('PATCH', p, b),
  del: (p, b) => call('DELETE', p, b),
  /** A text body (e.g. a CSV file) as is. */
  postText: (p, text, contentType) => call('POST', p, text, contentType),
};

/** The same calls under /workspaces/:id. */
export function workspaceApi(workspaceId) {
  const base = `/workspaces/${encodeURIComponent(workspaceId)}`;
  return {
    id: workspaceId,
    get: (p) => api.get(base + p),
    post: (p, b) => api.post(base + p, b),
    put: (p, b) => api.put(base + p, b),
    patch: (p, b) => api.patch(base + p, b),
    del: (p, b) => api.del(base + p, b),
    postText: (p, text, contentType) => api.postText(base + p, text, contentType),
  };
}

/** zod messages in words a person understands. */
export function plainIssue(message = '') {
  const m = String(message);
  if (/received undefined|Required/i.test(m)) return 'This is required.';
  if (/expected string to have >=1 characters|too small.*string/i.test(m)) return 'This can’t be empty.';
  if (/url/i.test(m)) return 'Enter a full web address, starting with https://';
  if (/expected number/i.test(m)) return 'Enter a number.';
  if (/uuid/i.test(m)) return 'Pick one from the list.';
  if (/too big.*string|<=\d+ characters/i.test(m)) return 'This is too long.';
  return m.replace(/^Invalid input: /, '').replace(/^./, (c) => c.toUpperCase());
}

/**
 * Puts each issue of a 400 next to its field (fields keyed by the first part of the issue path).
 * Returns the messages that had no field, for a notice at the top of the form.
 */
export function showFieldErrors(err, fields) {
  for (const f of Object.values(fields)) f.setError?.(null);
  const rest = [];
  const issues = Array.isArray(err?.details) ? err.details : [];
  for (const i of issues) {
    const key = String(i.path ?? '').split('.')[0];
    const f = fields[key];
    if (f?.setError) f.setError(plainIssue(i.message));
    else rest.push(i.path ? `${i.path}: ${plainIssue(i.message)}` : plainIssue(i.message));
  }
  if (!issues.length && err) rest.push(err.message);
  const first = Object.values(fields).find((f) => f.input?.getAttribute('aria-invalid') === 'true');
  first?.input?.focus();
  return rest;
}
