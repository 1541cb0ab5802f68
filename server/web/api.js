// Talking to the server: the login, the JSON API with the user's token, downloads, and the small
// DOM helper every page uses. The page holds no rights of its own: the server decides what each
// request may see, and the page shows what comes back (or the server's own words when it refuses).
import { t } from './i18n.js';

const TOKEN = 'cs-token';
const DEVICE = 'cs-device';

// The browser is a device to the server's login (a token is issued per device): one random id per
// browser, kept so that logging in again replaces this browser's token, not another's.
function browserDevice() {
  let id = localStorage.getItem(DEVICE);
  if (!id || !/^[0-9a-f]{32}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(DEVICE, id);
  }
  return id;
}

export function token() { return sessionStorage.getItem(TOKEN); }
export function forget() { sessionStorage.removeItem(TOKEN); }

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;  // seconds, from a 429 or 503 answer's Retry-After
  }
}

async function send(method, path, body, contentType) {
  const headers = {};
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['Content-Type'] = contentType || 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined
      : (typeof body === 'string' ? body : JSON.stringify(body)) });
  } catch (e) {
    throw new ApiError(0, 'offline', t('offline'));
  }
  if (res.status === 401 && path !== '/login') {
    forget();
    window.dispatchEvent(new Event('cs-logged-out'));
    throw new ApiError(401, 'unauthorized', t('session_over'));
  }
  if (!res.ok) {
    let code = 'error';
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      code = j.error || code;
      message = j.message || message;
    } catch (e) { /* not JSON: keep the status line */ }
    throw new ApiError(res.status, code, message, Number(res.headers.get('Retry-After')) || undefined);
  }
  return res;
}

export async function get(path) { return (await send('GET', path)).json(); }
export async function post(path, body, contentType) { return (await send('POST', path, body, contentType)).json(); }
export async function blob(path) { return (await send('GET', path)).blob(); }

export async function login(user, password) {
  const res = await send('POST', '/login', { user, password, device: browserDevice() });
  const j = await res.json();
  sessionStorage.setItem(TOKEN, j.token);
  return j;
}

//! Fetches a file the API makes (a report as XLSX or CSV) and hands it to the browser as a download.
export async function download(path, filename) {
  const res = await send('GET', path);
  const data = await res.blob();
  const url = URL.createObjectURL(data);
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

//! h('tag.class', {attr: v, onclick: f}, children...): an element; strings become text (never HTML).
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

//! A message at the corner of the screen: every action says how it went.
export function toast(message, kind = 'info') {
  const box = document.getElementById('toast');
  const m = h('div.msg' + (kind === 'error' ? '.error' : ''), { role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(m);
  setTimeout(() => m.remove(), kind === 'error' ? 9000 : 5000);
}

//! Runs an action from a button: disables it meanwhile, says what happened, and returns the result
//! (undefined when it failed; the failure is shown with the server's reason).
export async function act(button, action, okMessage) {
  if (button) button.disabled = true;
  try {
    const result = await action();
    if (okMessage) toast(okMessage);
    return result;
  } catch (e) {
    toast(`${t('failed')}: ${e.message}`, 'error');
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
