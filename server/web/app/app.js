// The field app: log in once online, then survey households with no signal for days. Everything
// a worker saves is in the phone's store (store.js) and goes to the server at the next sync
// (sync.js), checked first by the server's own rules compiled to WebAssembly (sync_core.js).
import communesyncSync from './communesync-sync.mjs';
import { h, bi } from './dom.js';
import { inputFor, relevant } from './inputs.js';
import { openSyncCore } from './sync_core.js';
import { openStore } from './store.js';
import { syncOnce } from './sync.js';

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const syncButton = document.getElementById('sync');
const statusButton = document.getElementById('status-page');
const logoutButton = document.getElementById('logout');
let core;       // the WebAssembly sync core, once compiled (coreReady): the forms list does not wait for it
let coreReady;
let store;
let settings = {};  // GET /app/settings.json: how photos are shrunk

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
// A record id as the C++ client makes them: 128 bits, time-ordered (48 bits of milliseconds first).
function newRecordId() {
  return Date.now().toString(16).padStart(12, '0').slice(-12) + randomHex(10);
}
const when = (ms) => (ms ? new Date(ms).toLocaleString('vi-VN') : bi('chưa', 'never'));

// ---- what the worker sees: one read of the store, shared by a screen ----
// Forms (the latest version of each "_forms" record), the records of each form (the server's, with
// the worker's changes not yet acknowledged laid over them), reviews and conflicts by record.
// Kept between screens, dropped whenever the store changes (a save, a sync, a discard).
let viewCache = null;
const loadView = () => (viewCache ||= readView().catch((err) => { viewCache = null; throw err; }));
const storeChanged = () => { viewCache = null; };

async function readView() {
  const [records, outbox, conflicts] = await Promise.all([store.records(), store.outboxEntries(), store.conflicts()]);
  const latest = new Map();
  const byCollection = new Map();
  const reviews = new Map();  // "collection/id" -> the review record's fields
  const collection = (name) => {
    if (!byCollection.has(name)) byCollection.set(name, new Map());
    return byCollection.get(name);
  };
  for (const r of records) {
    if (r.collection === '_forms' && !r.deleted && typeof r.fields.definition === 'string') {
      const def = JSON.parse(r.fields.definition);
      const version = Number(r.id.split('@')[1] || 0);
      if (!latest.has(def.name) || latest.get(def.name).version < version) {
        latest.set(def.name, { def, text: r.fields.definition, version });
      }
    } else if (r.collection === '_reviews' && !r.deleted) {
      reviews.set(r.id, r.fields);
    } else if (!r.collection.startsWith('_') && !r.deleted) {
      collection(r.collection).set(r.id, { ...r, fields: { ...r.fields }, stamps: { ...r.stamps }, pending: false });
    }
  }
  for (const { change, state, reason } of outbox) {
    const view = collection(change.collection);
    const r = view.get(change.record) || { collection: change.collection, id: change.record, scope: change.scope, fields: {}, stamps: {} };
    // In order: each pending edit's stamp is what the next edit of the field saw.
    for (const a of change.assignments) {
      if (a.value === null) delete r.fields[a.field];
      else r.fields[a.field] = a.value;
      r.stamps[a.field] = a.stamp;
      r.deleted = false;
    }
    if (change.deletion) { r.deleted = true; r.tombstone = change.deletion.stamp; }
    if (state === 'waiting') r.pending = 'waiting';
    if (state === 'refused') r.refused = reason;
    view.set(change.record, r);
  }
  const conflictsOf = new Map();
  for (const c of conflicts) {
    const key = `${c.collection}/${c.record}`;
    if (!conflictsOf.has(key)) conflictsOf.set(key, []);
    conflictsOf.get(key).push(c);
  }
  const forms = [...latest.values()].filter((f) => !f.def.name.startsWith('_'));
  return {
    forms,
    form: (name) => forms.find((f) => f.def.name === name),
    records: (name) => [...(byCollection.get(name) || new Map()).values()].filter((r) => !r.deleted),
    record: (name, id) => byCollection.get(name)?.get(id),
    review: (r) => reviews.get(`${r.collection}/${r.id}`),
    conflicts: (r) => conflictsOf.get(`${r.collection}/${r.id}`) || [],
    allConflicts: conflicts,
    outbox,
  };
}

// What a worker calls the record: its first text field (the household head), else its id.
function titleOf(form, fields) {
  const first = form?.def.fields.find((f) => f.type === 'text' && typeof fields[f.name] === 'string');
  return (first && fields[first.name]) || Object.values(fields).find((v) => typeof v === 'string') || '';
}
const reviewStates = {
  received: bi('Đã nhận, chờ duyệt', 'Received'),
  approved: bi('Đã duyệt', 'Approved'),
  needs_edits: bi('Cần sửa', 'Needs edits'),
  rejected: bi('Không duyệt', 'Rejected'),
};
function reviewNote(review) {
  if (!review) return null;
  return h(`div.review.${review.state}`, { 'data-review': review.state },
    h('strong', {}, reviewStates[review.state] || review.state),
    // A reopened review keeps the reviewer's last comment: shown only while it asks for something.
    review.comment && ['needs_edits', 'rejected'].includes(review.state) ? `: ${review.comment}` : '',
    review.by ? h('small', {}, ` — ${review.by}`) : null);
}
const valueText = (side) => (side.deleted ? bi('(xoá bản ghi)', '(record deleted)') : typeof side.value === 'string' ? side.value : JSON.stringify(side.value));
function conflictNote(form, c) {
  const label = c.field ? (form?.def.fields.find((f) => f.name === c.field)?.label?.vi || c.field) : bi('Xoá bản ghi', 'Deletion');
  return h(`div.conflict.${c.status}`, { 'data-conflict': c.status },
    h('strong', {}, `${bi('Xung đột', 'Conflict')} · ${label}`),
    h('div', {}, `${bi('Đang giữ', 'Kept')}: ${valueText(c.kept)}`),
    h('div', {}, `${bi('Giá trị khác', 'Other value')}: ${valueText(c.lost)}`),
    c.status === 'resolved'
      ? h('div.decided', {}, `${bi('Tỉnh đã quyết định', 'Decided by the province')}: ${valueText(c.resolution)}`,
        c.reason ? ` · ${bi('Lý do', 'Reason')}: ${c.reason}` : '', ` · ${c.resolved_by}, ${when(c.resolved_ms)}`)
      : h('div', {}, h('small', {}, bi('Chờ cán bộ tỉnh giải quyết', 'Waiting for the province to settle it'))));
}

let lastEvent = '';  // the last thing that happened (saved, synced, failed), kept across screens
async function showStatus(extra = lastEvent) {
  lastEvent = extra;
  const waiting = (await store.outbox()).filter((i) => i.state === 'waiting').length;
  statusLine.textContent = `${bi('Chờ gửi', 'Waiting')}: ${waiting} · ${bi('Đồng bộ lần cuối', 'Last sync')}: ${when(await store.get('last_sync_ms'))}` +
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
  const view = await loadView();
  const list = h('ul.list');
  for (const f of view.forms) {
    list.append(h('li', { 'data-form': f.def.name, onclick: () => formScreen(f.def.name) },
      h('strong', {}, f.def.title?.vi || f.def.name), ` (${view.records(f.def.name).length})`, h('br'), h('small', {}, f.def.title?.en || '')));
  }
  main.replaceChildren(h('h1', {}, bi('Biểu mẫu', 'Forms')), list);
}

async function formScreen(name) {
  const view = await loadView();
  const form = view.form(name);
  const list = h('ul.list');
  const records = view.records(name).map((r) => ({
    r,
    title: titleOf(form, r.fields) || r.id,
    review: view.review(r),
    open: view.conflicts(r).filter((c) => c.status === 'open').length,
  }));
  // The search key of every text of a record: the server's own folding (no accents, no case),
  // made at the first search, not at every opening of the list.
  const keyOf = (x) => (x.key ??= core.fold(Object.values(x.r.fields).filter((v) => typeof v === 'string').join(' ')));
  const show = async (query) => {
    let q = query.trim();
    if (q) {
      await coreReady;
      q = core.fold(q);
    }
    list.replaceChildren(...records.filter((x) => !q || keyOf(x).includes(q)).map(({ r, title, review, open }) =>
      h('li', { 'data-record': r.id, onclick: () => editScreen(name, r.id) }, title,
        r.pending ? h('div.pending', {}, bi('chờ gửi', 'waiting to send')) : null,
        r.refused ? h('div.error', {}, r.refused) : null,
        review?.state === 'needs_edits' ? reviewNote(review) : null,
        open ? h('div.conflict', {}, `${bi('Xung đột', 'Conflicts')}: ${open}`) : null)));
  };
  const search = h('input', { id: 'search', type: 'search', placeholder: bi('Tìm', 'Search'),
    'aria-label': bi('Tìm', 'Search'), oninput: (e) => show(e.target.value) });
  show('');
  main.replaceChildren(h('h1', {}, form.def.title?.vi || form.def.name),
    h('button', { type: 'button', id: 'new-record', onclick: () => editScreen(name, null) }, bi('Thêm mới', 'New')),
    search, list, h('button.secondary', { type: 'button', onclick: home }, bi('Quay lại', 'Back')));
}

// What waits to be sent, what the server refused and why (with a way to fix or discard it),
// reviews asking for edits, conflicts, the last sync, and whether the browser keeps the store.
async function statusScreen() {
  const view = await loadView();
  const titleOfChange = (change) => titleOf(view.form(change.collection), view.record(change.collection, change.record)?.fields || {}) || change.record;
  const formTitle = (name) => view.form(name)?.def.title?.vi || name;
  const waiting = view.outbox.filter((e) => e.state === 'waiting');
  const refused = view.outbox.filter((e) => e.state === 'refused');
  const needsEdits = view.forms.flatMap((f) => view.records(f.def.name).filter((r) => view.review(r)?.state === 'needs_edits'));
  const open = (fn) => (e) => { e.stopPropagation(); fn(); };
  main.replaceChildren(h('h1', {}, bi('Tình trạng', 'Status')),
    h('p', {}, `${bi('Đồng bộ lần cuối', 'Last sync')}: ${when(await store.get('last_sync_ms'))}`),
    (await store.get('persist_refused'))
      ? h('p.error', {}, bi('Trình duyệt chưa cho giữ dữ liệu lâu dài: hãy đồng bộ thường xuyên',
        'The browser did not grant lasting storage: sync often'))
      : null,
    h('h2', {}, `${bi('Chờ gửi', 'Waiting to send')} (${waiting.length})`),
    h('ul.list', { id: 'waiting' }, ...waiting.map((e) => h('li', {}, `${formTitle(e.change.collection)}: ${titleOfChange(e.change)}`,
      e.change.deletion ? ` (${bi('xoá', 'delete')})` : ''))),
    h('h2', {}, `${bi('Máy chủ từ chối', 'Refused by the server')} (${refused.length})`),
    h('ul.list', { id: 'refused' }, ...refused.map((e) => h('li', {}, h('strong', {}, titleOfChange(e.change)), h('div.error', {}, e.reason),
      view.form(e.change.collection)
        ? h('button', { type: 'button', onclick: open(() => editScreen(e.change.collection, e.change.record)) }, bi('Sửa', 'Fix'))
        : null,
      h('button.secondary', { type: 'button', onclick: async () => { await store.dropRefused([e.seq]); storeChanged(); statusScreen(); } },
        bi('Bỏ', 'Discard'))))),
    h('h2', {}, `${bi('Cần sửa theo yêu cầu', 'Edits asked for')} (${needsEdits.length})`),
    h('ul.list', { id: 'needs-edits' }, ...needsEdits.map((r) => h('li', { 'data-record': r.id, onclick: () => editScreen(r.collection, r.id) },
      h('strong', {}, titleOf(view.form(r.collection), r.fields)), reviewNote(view.review(r))))),
    h('h2', {}, `${bi('Xung đột', 'Conflicts')} (${view.allConflicts.length})`),
    h('ul.list', { id: 'conflicts' }, ...view.allConflicts.map((c) => {
      const r = view.record(c.collection, c.record);
      return h('li', { onclick: r ? () => editScreen(c.collection, c.record) : undefined },
        h('strong', {}, r ? titleOf(view.form(c.collection), r.fields) : c.record), conflictNote(view.form(c.collection), c));
    })),
    h('button.secondary', { type: 'button', onclick: home }, bi('Quay lại', 'Back')));
}

async function editScreen(name, recordId) {
  const view = await loadView();
  const form = view.form(name);
  const record = recordId ? view.record(name, recordId) : null;
  const photos = new Map();  // photos taken on this screen, kept with the change that refers to them
  const ctx = { id: 'f', settings, photos, heldPhoto: (hash) => store.file(hash), changed: () => applyRelevance() };
  const inputs = form.def.fields.map((f) => ({ field: f, input: inputFor(f, record?.fields[f.name], ctx) }));
  const readAll = () => {
    const values = {};
    for (const { field, input } of inputs) {
      const v = input.read();
      if (v !== undefined) values[field.name] = v;
    }
    return values;
  };
  // A field asked only for some answers (relevant) shows only then, as the server's check decides.
  const applyRelevance = () => {
    const values = readAll();
    for (const { field, input } of inputs) input.node.hidden = !relevant(field, values);
  };
  applyRelevance();
  const error = h('div', { role: 'alert' });
  const save = async (e) => {
    e.preventDefault();
    error.replaceChildren();
    const values = readAll();
    const fields = {};
    for (const { field, input } of inputs) {
      if (input.node.hidden) continue;
      if (values[field.name] !== undefined) fields[field.name] = values[field.name];
      else if (record && record.fields[field.name] !== undefined) fields[field.name] = null;  // emptied
    }
    // The server's own validation, before anything is saved: a refusal names the field.
    const merged = { ...(record?.fields || {}), ...fields };
    for (const k of Object.keys(merged)) if (merged[k] === null) delete merged[k];
    await coreReady;
    const checked = core.validate(form.text, merged);
    if (checked.error || checked.errors.length) {
      // Each refusal names the field by its Vietnamese label, as the worker sees it on the form.
      const labelOf = (path) => form.def.fields.find((f) => f.name === path.split(/[.[]/)[0])?.label?.vi || path;
      const lines = checked.error ? [checked.error.message] : checked.errors.map((x) => `${labelOf(x.field)}: ${x.reason}`);
      error.append(h('div.error', {}, h('strong', {}, bi('Chưa lưu', 'Not saved')), ...lines.map((l) => h('div', {}, l))));
      return;
    }
    try {
      const text = JSON.stringify(fields);  // a photo may sit in a group entry
      const used = [...photos.values()].filter((p) => text.includes(p.hash));
      await saveChange(form, record, fields, used);
      await formScreen(name);
      await showStatus(bi('Đã lưu trên máy', 'Saved on the phone'));
      if (navigator.onLine) runSync();
    } catch (err) {
      error.append(h('div.error', {}, err.message));
    }
  };
  const remove = async () => {
    if (!window.confirm(bi('Xoá bản ghi này? Việc xoá sẽ gửi lên máy chủ ở lần đồng bộ tới.',
      'Delete this record? The deletion goes to the server at the next sync.'))) return;
    await saveDeletion(form, record);
    await formScreen(name);
    await showStatus(bi('Đã xoá trên máy', 'Deleted on the phone'));
    if (navigator.onLine) runSync();
  };
  main.replaceChildren(h('form', { onsubmit: save }, h('h1', {}, form.def.title?.vi || form.def.name),
    record ? reviewNote(view.review(record)) : null,
    ...(record ? view.conflicts(record).map((c) => conflictNote(form, c)) : []),
    record?.capture_time_ms ? h('p', {}, h('small', {}, `${bi('Khảo sát lúc', 'Surveyed at')}: ${when(record.capture_time_ms)}`)) : null,
    ...inputs.map(({ input }) => input.node), error,
    h('button', { type: 'submit', id: 'save' }, bi('Lưu', 'Save')),
    record ? h('button.secondary.danger', { type: 'button', id: 'delete', onclick: remove }, bi('Xoá bản ghi', 'Delete the record')) : null,
    h('button.secondary', { type: 'button', onclick: () => formScreen(name) }, bi('Quay lại', 'Back'))));
}

// The phone's hybrid clock, corrected by the server's time: each stamp newer than the last.
async function nextStamps() {
  const device = await store.get('device');
  const offset = (await store.get('clock_offset_ms')) || 0;
  const last = (await store.get('clock')) || { wall_ms: 0, counter: 0 };
  const now = Date.now() + offset;
  let clock = now > last.wall_ms ? { wall_ms: now, counter: 0 } : { wall_ms: last.wall_ms, counter: last.counter + 1 };
  let used = last;
  return {
    device,
    now,
    next() {
      used = clock;
      clock = { wall_ms: clock.wall_ms, counter: clock.counter + 1 };
      return { ...used, device };
    },
    save: () => store.set('clock', used),  // the last stamp given: the next starts after it
  };
}

// Checked (NFC) by the WebAssembly core and kept in the outbox in one transaction, with its photos.
async function keepChange(form, record, scope, stamps, body, photos = []) {
  const id = record?.id || newRecordId();
  await coreReady;
  storeChanged();
  await store.addChange((seq) => {
    const checked = core.checkChange({ id: { device: stamps.device, seq }, collection: form.def.name, record: id, scope,
      form_version: form.version, capture_time_ms: stamps.now, assignments: [], ...body });
    if (checked.error) throw new Error(checked.error.message);
    return checked.change;
  }, photos);
  await stamps.save();
  // The record's changes the server refused are replaced by this one, which carries the fix.
  const refused = (await store.outboxEntries()).filter((e) => e.state === 'refused' && e.change.record === id);
  if (refused.length) await store.dropRefused(refused.map((e) => e.seq));
}

// The worker's edit as one change: each field a stamped assignment that says what it saw.
async function saveChange(form, record, fields, photos) {
  const scopes = ((await store.get('scopes')) || []).filter((s) => s !== '_forms');
  const scope = record?.scope || scopes[0];
  if (!scope) throw new Error(bi('Chưa biết đơn vị: hãy đồng bộ một lần', 'No unit known yet: sync once'));
  const stamps = await nextStamps();
  const assignments = [];
  for (const [field, value] of Object.entries(fields)) {
    if (record && JSON.stringify(record.fields[field] ?? null) === JSON.stringify(value)) continue;
    assignments.push({ field, value, stamp: stamps.next(), seen: record?.stamps?.[field] || null });
  }
  if (!assignments.length) return;
  await keepChange(form, record, scope, stamps, { assignments }, photos);
}

// A deletion that says which write of each field it saw: a newer edit elsewhere brings it back.
async function saveDeletion(form, record) {
  const stamps = await nextStamps();
  await keepChange(form, record, record.scope, stamps, { deletion: { stamp: stamps.next(), seen: record.stamps || {} } });
}

let syncing = null;
let retries = 0;
async function runSync() {
  if (syncing) return syncing;
  syncButton.disabled = true;
  const progress = (p) => showStatus(p.photos
    ? `${bi('Đang gửi ảnh', 'Sending photos')} ${p.photo}/${p.photos} (${Math.round((100 * p.bytes) / p.of_bytes)}%)`
    : `${bi('Đang đồng bộ', 'Syncing')} ${p.sent}/${p.of}`);
  syncing = coreReady.then(() => syncOnce(core, store, { onProgress: progress }))
    .then(async (r) => {
      retries = 0;
      statusLine.dataset.syncedAt = String(Date.now());  // when the last sync went through
      await showStatus(bi(`Đã đồng bộ: gửi ${r.sent}, nhận ${r.received}, ảnh ${r.photos}`
        + (r.resynced ? `; tải lại toàn bộ xã, bỏ ${r.removed} bản ghi đã xoá trên máy chủ` : ''),
      r.resynced ? `synced; the commune was loaded afresh, ${r.removed} records deleted on the server removed` : 'synced'));
    })
    .catch(async (err) => {
      await showStatus(`${bi('Không đồng bộ được', 'Sync failed')}: ${err.message}`);
      // A signal that just came back often fails the first try: try again a few times, spaced out.
      if (navigator.onLine && retries < 3) setTimeout(() => runSync(), 3000 * 2 ** retries++);
    })
    .finally(() => { storeChanged(); syncing = null; syncButton.disabled = false; });
  return syncing;
}

// The button syncs, then shows the forms; `data-running` stays until both are done.
syncButton.addEventListener('click', async () => {
  syncButton.dataset.running = '1';
  try {
    await runSync();
    await home();
  } finally {
    delete syncButton.dataset.running;
  }
});
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
// A new release arrived in the background (sw.js): offered, not forced, so a half-filled form stays.
// Listened for from the first moment: the service worker may tell before the store is open.
navigator.serviceWorker?.addEventListener('message', (event) => {
  if (event.data?.type !== 'updated' || document.getElementById('update')) return;
  statusLine.after(h('button.update', { type: 'button', id: 'update', onclick: () => location.reload() },
    bi('Đã có bản mới của ứng dụng · Mở lại', 'A new version of the app · Reopen')));
});
navigator.serviceWorker?.startMessages();

// The server's settings for the app, kept for the days offline (the service worker caches them too).
async function loadSettings() {
  try {
    const res = await fetch('settings.json', { cache: 'no-cache' });
    if (res.ok) await store.set('settings', await res.json());
  } catch { /* offline: the last ones */ }
  return (await store.get('settings')) || {};
}

async function start() {
  store = await openStore();
  if (!(await store.get('device'))) await store.set('device', randomHex(16));
  coreReady = openSyncCore(() => communesyncSync()).then((c) => { core = c; });
  coreReady.catch((err) => showStatus(`${bi('Không mở được phần đồng bộ', 'The sync core did not load')}: ${err.message}`));
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  if (navigator.storage?.persist && !(await navigator.storage.persisted())) {
    const granted = await navigator.storage.persist();
    if (!granted) await store.set('persist_refused', true);
  }
  settings = await loadSettings();
  if (!(await store.get('token'))) return loginScreen();
  await home();
}
start().catch((err) => { main.replaceChildren(h('p.error', {}, `${bi('Không mở được', 'Cannot open')}: ${err.message}`)); });
