// The field app: log in once online, then survey households with no signal for days. Everything
// a worker saves is in the phone's store (store.js) and goes to the server at the next sync
// (sync.js), checked first by the server's own rules compiled to WebAssembly (sync_core.js).
import communesyncSync from './communesync-sync.mjs';
import { openSyncCore } from './sync_core.js';
import { openStore } from './store.js';
import { syncOnce } from './sync.js';

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const syncButton = document.getElementById('sync');
const statusButton = document.getElementById('status-page');
const logoutButton = document.getElementById('logout');
let core;
let store;

// A tiny element builder: h('p.error', {}, 'text', child...).
function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}
const bi = (vi, en) => `${vi} / ${en}`;

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
// A record id as the C++ client makes them: 128 bits, time-ordered (48 bits of milliseconds first).
function newRecordId() {
  return Date.now().toString(16).padStart(12, '0').slice(-12) + randomHex(10);
}

// ---- forms: published as records of "_forms" (NAME@VERSION), the latest version of each ----
async function forms() {
  const latest = new Map();
  for (const r of await store.records()) {
    if (r.collection !== '_forms' || r.deleted || typeof r.fields.definition !== 'string') continue;
    const def = JSON.parse(r.fields.definition);
    const version = Number(r.id.split('@')[1] || 0);
    if (!latest.has(def.name) || latest.get(def.name).version < version) {
      latest.set(def.name, { def, text: r.fields.definition, version });
    }
  }
  return [...latest.values()].filter((f) => !f.def.name.startsWith('_'));
}

// The records of `collection` as the worker sees them: the server's, with the worker's own changes
// not yet acknowledged laid over them.
async function recordsOf(collection) {
  const view = new Map();
  for (const r of await store.records()) {
    if (r.collection === collection && !r.deleted) view.set(r.id, { ...r, fields: { ...r.fields }, pending: false });
  }
  for (const { change, state, reason } of await store.outbox()) {
    if (change.collection !== collection) continue;
    const r = view.get(change.record) || { collection, id: change.record, scope: change.scope, fields: {}, stamps: {} };
    for (const a of change.assignments) r.fields[a.field] = a.value;
    r.pending = state === 'waiting' ? 'waiting' : r.pending;
    if (state === 'refused') r.refused = reason;
    view.set(change.record, r);
  }
  return [...view.values()];
}

let lastEvent = '';  // the last thing that happened (saved, synced, failed), kept across screens
async function showStatus(extra = lastEvent) {
  lastEvent = extra;
  const waiting = (await store.outbox()).filter((i) => i.state === 'waiting').length;
  const last = await store.get('last_sync_ms');
  const when = last ? new Date(last).toLocaleString('vi-VN') : bi('chưa', 'never');
  statusLine.textContent = `${bi('Chờ gửi', 'Waiting')}: ${waiting} · ${bi('Đồng bộ lần cuối', 'Last sync')}: ${when}` +
    (extra ? ` · ${extra}` : '');
}

// ---- screens ----
function loginScreen(message) {
  for (const b of [syncButton, statusButton, logoutButton]) b.hidden = true;
  const user = h('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', required: true });
  const error = h('div', { role: 'alert' }, message ? h('p.error', {}, message) : null);
  main.replaceChildren(h('form.card', {
    onsubmit: async (e) => {
      e.preventDefault();
      error.replaceChildren();
      try {
        const res = await fetch('/login', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ user: user.value.trim(), password: password.value, device: await store.get('device') }),
        });
        const body = await res.json();
        if (!res.ok) throw new Error(res.status === 401 ? bi('Sai tên hoặc mật khẩu', 'Wrong name or password') : body.message);
        await store.set('token', body.token);
        await store.set('user', body.user);
        await runSync();
        await home();
      } catch (err) {
        error.append(h('p.error', {}, err.message));
      }
    },
  }, h('h1', {}, bi('Đăng nhập', 'Log in')),
  h('label', { for: 'user' }, bi('Tên đăng nhập', 'User name')), user,
  h('label', { for: 'password' }, bi('Mật khẩu', 'Password')), password, error,
  h('button', { type: 'submit' }, bi('Đăng nhập', 'Log in'))));
}

async function home() {
  for (const b of [syncButton, statusButton, logoutButton]) b.hidden = false;
  document.getElementById('who').textContent = (await store.get('user')) || '';
  await showStatus();
  const list = h('ul.list');
  for (const f of await forms()) {
    const count = (await recordsOf(f.def.name)).length;
    list.append(h('li', { 'data-form': f.def.name, onclick: () => formScreen(f) },
      h('strong', {}, f.def.title?.vi || f.def.name), ` (${count})`, h('br'), h('small', {}, f.def.title?.en || '')));
  }
  main.replaceChildren(h('h1', {}, bi('Biểu mẫu', 'Forms')), list);
}

async function formScreen(form) {
  const list = h('ul.list');
  const records = (await recordsOf(form.def.name)).map((r) => ({
    r,
    title: Object.values(r.fields).find((v) => typeof v === 'string') || r.id,
    // The search key of every text of the record: the server's own folding (no accents, no case).
    key: core.fold(Object.values(r.fields).filter((v) => typeof v === 'string').join(' ')),
  }));
  const show = (query) => {
    const q = core.fold(query.trim());
    list.replaceChildren(...records.filter((x) => !q || x.key.includes(q)).map(({ r, title }) =>
      h('li', { 'data-record': r.id, onclick: () => editScreen(form, r) }, title,
        r.pending ? h('div.pending', {}, bi('chờ gửi', 'waiting to send')) : null,
        r.refused ? h('div.error', {}, r.refused) : null)));
  };
  const search = h('input', { id: 'search', type: 'search', placeholder: bi('Tìm', 'Search'),
    'aria-label': bi('Tìm', 'Search'), oninput: (e) => show(e.target.value) });
  show('');
  main.replaceChildren(h('h1', {}, form.def.title?.vi || form.def.name),
    h('button', { type: 'button', id: 'new-record', onclick: () => editScreen(form, null) }, bi('Thêm mới', 'New')),
    search, list, h('button.secondary', { type: 'button', onclick: home }, bi('Quay lại', 'Back')));
}

// What waits to be sent, what the server refused and why (with a way to fix or discard it), the
// last sync, and whether the browser keeps the store for good.
async function statusScreen() {
  const entries = await store.outboxEntries();
  const all = await forms();
  const formOf = (name) => all.find((f) => f.def.name === name);
  const titleOf = (change) => change.assignments.map((a) => a.value).find((v) => typeof v === 'string') || change.record;
  const waiting = entries.filter((e) => e.state === 'waiting');
  const refused = entries.filter((e) => e.state === 'refused');
  const last = await store.get('last_sync_ms');
  main.replaceChildren(h('h1', {}, bi('Tình trạng', 'Status')),
    h('p', {}, `${bi('Đồng bộ lần cuối', 'Last sync')}: ${last ? new Date(last).toLocaleString('vi-VN') : bi('chưa', 'never')}`),
    (await store.get('persist_refused'))
      ? h('p.error', {}, bi('Trình duyệt chưa cho giữ dữ liệu lâu dài: hãy đồng bộ thường xuyên',
        'The browser did not grant lasting storage: sync often'))
      : null,
    h('h2', {}, `${bi('Chờ gửi', 'Waiting to send')} (${waiting.length})`),
    h('ul.list', { id: 'waiting' }, ...waiting.map((e) => h('li', {}, `${formOf(e.change.collection)?.def.title?.vi || e.change.collection}: ${titleOf(e.change)}`))),
    h('h2', {}, `${bi('Máy chủ từ chối', 'Refused by the server')} (${refused.length})`),
    h('ul.list', { id: 'refused' }, ...refused.map((e) => h('li', {}, h('strong', {}, titleOf(e.change)), h('div.error', {}, e.reason),
      formOf(e.change.collection)
        ? h('button', { type: 'button', onclick: async () => {
          const form = formOf(e.change.collection);
          const record = (await recordsOf(form.def.name)).find((r) => r.id === e.change.record);
          editScreen(form, record);
        } }, bi('Sửa', 'Fix'))
        : null,
      h('button.secondary', { type: 'button', onclick: async () => { await store.dropRefused([e.seq]); statusScreen(); } },
        bi('Bỏ', 'Discard'))))),
    h('button.secondary', { type: 'button', onclick: home }, bi('Quay lại', 'Back')));
}

// One input per field of the form, labelled with the form's Vietnamese label.
function inputFor(field, value) {
  const id = `f-${field.name}`;
  const label = h('label', { for: id }, field.label?.vi || field.name, field.required ? ' *' : '',
    field.hint?.vi ? h('small', {}, field.hint.vi) : null);
  let input;
  let read;
  switch (field.type) {
    case 'integer': case 'decimal': case 'money':
      input = h('input', { id, type: 'number', step: field.type === 'integer' ? '1' : 'any', value: value ?? '' });
      read = () => (input.value === '' ? undefined : Number(input.value));
      break;
    case 'date':
      input = h('input', { id, type: 'date', value: value ?? '' });
      read = () => input.value || undefined;
      break;
    case 'choice':
      input = h('select', { id }, h('option', { value: '' }, '—'),
        ...field.choices.map((c) => h('option', { value: c.code, selected: c.code === value }, c.vi || c.code)));
      read = () => input.value || undefined;
      break;
    case 'yes_no':
      input = h('select', { id }, h('option', { value: '' }, '—'),
        h('option', { value: 'true', selected: value === true }, 'Có'), h('option', { value: 'false', selected: value === false }, 'Không'));
      read = () => (input.value === '' ? undefined : input.value === 'true');
      break;
    case 'multi_choice': {
      const boxes = field.choices.map((c) => h('input', { type: 'checkbox', value: c.code, checked: (value || []).includes(c.code) }));
      input = h('div.choices', { id }, ...boxes.map((b, i) => h('label', {}, b, field.choices[i].vi || field.choices[i].code)));
      read = () => { const v = boxes.filter((b) => b.checked).map((b) => b.value); return v.length ? v : undefined; };
      break;
    }
    case 'text':
      input = h('input', { id, value: value ?? '', maxlength: field.max_length });
      read = () => input.value.trim() || undefined;
      break;
    default:  // gps, photo, file, group: the next part of the app
      input = h('p', { id }, h('small', {}, bi('chưa có trong ứng dụng này', 'not in the app yet')));
      read = () => value ?? undefined;
  }
  return { node: h('div', {}, label, input), read };
}

async function editScreen(form, record) {
  const inputs = form.def.fields.map((f) => [f.name, inputFor(f, record?.fields[f.name])]);
  const error = h('div', { role: 'alert' });
  const save = async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const fields = {};
    for (const [name, input] of inputs) {
      const v = input.read();
      if (v !== undefined) fields[name] = v;
    }
    // The server's own validation, before anything is saved: a refusal names the field.
    const checked = core.validate(form.text, { ...(record?.fields || {}), ...fields });
    if (checked.error || checked.errors.length) {
      // Each refusal names the field by its Vietnamese label, as the worker sees it on the form.
      const labelOf = (path) => form.def.fields.find((f) => f.name === path)?.label?.vi || path;
      const lines = checked.error ? [checked.error.message] : checked.errors.map((x) => `${labelOf(x.field)}: ${x.reason}`);
      error.append(h('div.error', {}, h('strong', {}, bi('Chưa lưu', 'Not saved')), ...lines.map((l) => h('div', {}, l))));
      return;
    }
    try {
      await saveChange(form, record, fields);
      await formScreen(form);
      await showStatus(bi('Đã lưu trên máy', 'Saved on the phone'));
      if (navigator.onLine) runSync();
    } catch (err) {
      error.append(h('div.error', {}, err.message));
    }
  };
  main.replaceChildren(h('form', { onsubmit: save }, h('h1', {}, form.def.title?.vi || form.def.name),
    ...inputs.map(([, i]) => i.node), error,
    h('button', { type: 'submit', id: 'save' }, bi('Lưu', 'Save')),
    h('button.secondary', { type: 'button', onclick: () => formScreen(form) }, bi('Quay lại', 'Back'))));
}

// The worker's edit as one change: each field a stamped assignment (hybrid clock, corrected by the
// server's time), checked (NFC) by the WebAssembly core and kept in the outbox in one transaction.
async function saveChange(form, record, fields) {
  const device = await store.get('device');
  const offset = (await store.get('clock_offset_ms')) || 0;
  const scopes = ((await store.get('scopes')) || []).filter((s) => s !== '_forms');
  const scope = record?.scope || scopes[0];
  if (!scope) throw new Error(bi('Chưa biết đơn vị: hãy đồng bộ một lần', 'No unit known yet: sync once'));
  const last = (await store.get('clock')) || { wall_ms: 0, counter: 0 };
  const now = Date.now() + offset;
  let clock = now > last.wall_ms ? { wall_ms: now, counter: 0 } : { wall_ms: last.wall_ms, counter: last.counter + 1 };
  const id = record?.id || newRecordId();
  const assignments = [];
  for (const [field, value] of Object.entries(fields)) {
    if (record && JSON.stringify(record.fields[field]) === JSON.stringify(value)) continue;
    assignments.push({ field, value, stamp: { ...clock, device }, seen: record?.stamps?.[field] || null });
    clock = { wall_ms: clock.wall_ms, counter: clock.counter + 1 };
  }
  if (!assignments.length) return;
  await store.addChange((seq) => {
    const checked = core.checkChange({ id: { device, seq }, collection: form.def.name, record: id, scope,
      form_version: form.version, capture_time_ms: now, assignments });
    if (checked.error) throw new Error(checked.error.message);
    return checked.change;
  });
  await store.set('clock', clock);
  // The record's changes the server refused are replaced by this one, which carries the fix.
  const refused = (await store.outboxEntries()).filter((e) => e.state === 'refused' && e.change.record === id);
  if (refused.length) await store.dropRefused(refused.map((e) => e.seq));
}

let syncing = null;
let retries = 0;
async function runSync() {
  if (syncing) return syncing;
  syncButton.disabled = true;
  syncing = syncOnce(core, store, { onProgress: (p) => showStatus(`${bi('Đang đồng bộ', 'Syncing')} ${p.sent}/${p.of}`) })
    .then(async (r) => {
      retries = 0;
      await showStatus(bi(`Đã đồng bộ: gửi ${r.sent}, nhận ${r.received}`, 'synced'));
    })
    .catch(async (err) => {
      await showStatus(`${bi('Không đồng bộ được', 'Sync failed')}: ${err.message}`);
      // A signal that just came back often fails the first try: try again a few times, spaced out.
      if (navigator.onLine && retries < 3) setTimeout(() => runSync(), 3000 * 2 ** retries++);
    })
    .finally(() => { syncing = null; syncButton.disabled = false; });
  return syncing;
}

syncButton.addEventListener('click', async () => { await runSync(); await home(); });
statusButton.addEventListener('click', () => statusScreen());
// Logging out with changes not on the server warns and says how many; nothing is dropped: they
// stay in the outbox and go at the next sync after logging in again.
logoutButton.addEventListener('click', async () => {
  const waiting = (await store.outbox()).filter((i) => i.state === 'waiting').length;
  if (waiting > 0 && !window.confirm(bi(`Còn ${waiting} thay đổi chưa gửi lên máy chủ. Chúng vẫn được giữ trên máy và sẽ gửi khi đăng nhập lại. Vẫn đăng xuất?`,
    `${waiting} changes are not on the server yet. They stay on this phone and go after the next login. Log out anyway?`))) return;
  await store.set('token', null);
  loginScreen();
});
window.addEventListener('online', () => runSync());

async function start() {
  store = await openStore();
  if (!(await store.get('device'))) await store.set('device', randomHex(16));
  core = await openSyncCore(() => communesyncSync());
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  if (navigator.storage?.persist && !(await navigator.storage.persisted())) {
    const granted = await navigator.storage.persist();
    if (!granted) await store.set('persist_refused', true);
  }
  if (!(await store.get('token'))) return loginScreen();
  await home();
}
start().catch((err) => { main.replaceChildren(h('p.error', {}, `${bi('Không mở được', 'Cannot open')}: ${err.message}`)); });
