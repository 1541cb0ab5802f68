// The reconciler's daily pages: overview, conflicts (queue and one conflict), reviews, records.
import { bi, t } from './i18n.js';
import { act, blob, get, h, post, toast } from './api.js';
import { ago, badge, barChart, fieldValue, number, progressChart, when } from './show.js';

// ---- shared pieces ----

//! The latest version of each form the server publishes, by name.
export function formsOf(me) {
  const out = new Map();
  for (const f of me.forms) if (!out.has(f.name) || out.get(f.name).version < f.version) out.set(f.name, f);
  return out;
}
//! The units as a tree reads: each followed by the units under it.
export function unitsInTreeOrder(me) {
  const children = new Map();
  const codes = new Set(me.units.map((u) => u.code));
  for (const u of me.units) {
    const parent = codes.has(u.parent_code) ? u.parent_code : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(u);
  }
  const out = [];
  const visit = (code, depth) => {
    for (const u of children.get(code) || []) {
      out.push({ ...u, depth });
      visit(u.code, depth + 1);
    }
  };
  visit('', 0);
  return out;
}
function unitName(me, code) {
  const u = me.units.find((x) => x.code === code);
  return u ? u.name : code;
}
function fieldOf(me, collection, name) {
  const form = formsOf(me).get(collection);
  return form ? form.fields.find((f) => f.name === name) : undefined;
}
function fieldLabel(me, collection, name) {
  const f = fieldOf(me, collection, name);
  return name === '' ? t('deleted') : f ? bi(f.label) : name;
}
export function unitSelect(me, value, { allLabel = t('all_units') } = {}) {
  const sel = h('select', { name: 'unit' }, h('option', { value: '' }, allLabel));
  for (const u of unitsInTreeOrder(me)) {
    sel.append(h('option', { value: u.code, selected: u.code === value }, `${'\u00a0\u00a0'.repeat(u.depth)}${u.name} (${u.code})`));
  }
  return sel;
}
export function formSelect(me, value, { allowAll = false } = {}) {
  const sel = h('select', { name: 'collection' });
  if (allowAll) sel.append(h('option', { value: '' }, t('all_forms')));
  for (const f of formsOf(me).values()) sel.append(h('option', { value: f.name, selected: f.name === value }, bi(f.title)));
  return sel;
}
function yearSelect(value) {
  const now = new Date().getFullYear();
  const sel = h('select', { name: 'year' });
  for (let y = now + 1; y >= now - 6; y--) sel.append(h('option', { value: y, selected: y === value }, y));
  return sel;
}
function setHash(page, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null));
  location.hash = `#/${page}${q.toString() ? '?' + q : ''}`;
}
function sideValue(me, conflict, side) {
  if (!side) return '—';
  if (side.deleted) return t('deleted');
  return fieldValue(fieldOf(me, conflict.collection, conflict.field), side.value);
}

// ---- overview ----

function rollUp(me, perUnit) {
  // Each unit's own counts plus those of every unit under it.
  const totals = new Map(me.units.map((u) => [u.code, { records: 0, conflicts: 0, waiting: 0, needs_edits: 0, byForm: {} }]));
  for (const [code, c] of Object.entries(perUnit)) {
    let u = me.units.find((x) => x.code === code);
    const seen = new Set();
    while (u && !seen.has(u.code)) {
      seen.add(u.code);
      const tot = totals.get(u.code);
      for (const [form, n] of Object.entries(c.records)) {
        tot.records += n;
        tot.byForm[form] = (tot.byForm[form] || 0) + n;
      }
      tot.conflicts += c.conflicts;
      tot.waiting += c.reviews.received;
      tot.needs_edits += c.reviews.needs_edits;
      u = me.units.find((x) => x.code === (u.merged_into || u.parent_code));
    }
  }
  return totals;
}

export async function overviewPage({ me, main, params }) {
  const year = Number(params.get('year')) || new Date().getFullYear();
  const yearSel = yearSelect(year);
  yearSel.addEventListener('change', () => setHash('overview', { year: yearSel.value }));
  // The server runs one report at a time per user: the targets, then what is due.
  const reports = (async () => {
    const targets = await get(`/api/reports/targets?year=${year}`).catch((e) => ({ error: e.message }));
    const due = await get(`/api/reports/due?year=${year}`).catch((e) => ({ error: e.message }));
    return [targets, due];
  })();
  const [overview, devices, [targets, due]] = await Promise.all([
    get(`/api/overview?year=${year}`),
    get('/api/devices').catch((e) => ({ error: e.message })),
    reports,
  ]);
  const totals = rollUp(me, overview.units);
  const levels = ['province', 'district', 'commune'];
  const shown = unitsInTreeOrder(me).filter((u) => levels.includes(u.level) && !u.merged_into);
  const rows = shown.map((u) => {
    const c = totals.get(u.code);
    return h('tr', { class: u.level === 'province' ? 'total' : undefined, dataset: { unit: u.code } },
      h('td', { 'data-label': t('unit') }, '\u2003'.repeat(u.depth), u.name),
      h('td.num', { 'data-label': t('records_this_year') }, number(c.records)),
      h('td.num', { 'data-label': t('open_conflicts') },
        c.conflicts ? h('a', { href: `#/conflicts?unit=${encodeURIComponent(u.code)}` }, number(c.conflicts)) : '0'),
      h('td.num', { 'data-label': t('waiting_review') }, number(c.waiting)),
      h('td.num', { 'data-label': t('needs_edits_n') }, number(c.needs_edits)));
  });
  const forms = formsOf(me);
  const allForms = {};
  for (const c of Object.values(overview.units)) for (const [f, n] of Object.entries(c.records)) allForms[f] = (allForms[f] || 0) + n;
  const communes = me.units.filter((u) => u.level === 'commune' && totals.get(u.code).records > 0)
    .map((u) => ({ label: u.name, value: totals.get(u.code).records })).sort((a, b) => b.value - a.value).slice(0, 20);

  const progress = [];
  if (!targets.error) {
    for (const a of targets.assessments || []) {
      const checks = a.checks || [];
      progress.push({ label: `${a.name} · ${bi(a.grade_label)}`, actual: checks.filter((c) => c.met).length, required: checks.length });
      for (const c of checks) {
        if (typeof c.actual === 'number' && typeof c.required === 'number') {
          progress.push({ label: `${a.name} · ${bi(c.label)}`, actual: c.actual, required: c.required });
        }
      }
    }
  }
  // "Đôn đốc" (Decision 1100, VI.1): who has not yet met a deadline still to come, soonest first.
  const dueRows = due.error ? [] : due.sections[0].rows;
  const dueShown = dueRows.slice(0, 15).map(([name, id, , target, now, deadline, daysLeft]) => h('tr', { dataset: { id } },
    h('td', { 'data-label': t('unit') }, name),
    h('td', { 'data-label': t('what_is_due') }, target, h('div.small.muted', {}, now)),
    h('td', { 'data-label': t('deadline') }, deadline),
    h('td.num', { 'data-label': t('days_left') }, number(daysLeft))));
  const dueCard = h('div.card', {}, h('h2', {}, t('to_chase')),
    due.error ? h('p.error-box', {}, due.error) : dueShown.length === 0 ? h('p.muted', {}, t('nothing_due'))
      : [h('div.scroll', {}, h('table.cards', { id: 'due-list' },
          h('thead', {}, h('tr', {}, h('th', {}, t('unit')), h('th', {}, t('what_is_due')), h('th', {}, t('deadline')), h('th.num', {}, t('days_left')))),
          h('tbody', {}, dueShown))),
        dueRows.length > dueShown.length ? h('a', { href: `#/reports?kind=due&year=${year}` }, t('more_n', { n: dueRows.length })) : '']);
  const deviceRows = devices.error ? [] : devices.devices.filter((d) => d.last_contact_ms > 0).sort((a, b) => b.last_contact_ms - a.last_contact_ms).slice(0, 15);

  main.replaceChildren(
    h('h1', {}, `${t('overview')} ${year}`),
    h('div.toolbar', {}, h('label', {}, t('year'), yearSel)),
    h('div.card', {}, h('h2', {}, t('by_unit')), h('div.scroll', {}, h('table.cards', { id: 'overview-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('unit')), h('th.num', {}, t('records_this_year')), h('th.num', {}, t('open_conflicts')),
        h('th.num', {}, t('waiting_review')), h('th.num', {}, t('needs_edits_n')))),
      h('tbody', {}, rows)))),
    h('div.grid', {},
      h('div.card', {}, h('h2', {}, `${t('records_this_year')} · ${t('form')}`),
        Object.keys(allForms).length ? barChart(Object.entries(allForms).map(([f, n]) => ({ label: forms.has(f) ? bi(forms.get(f).title) : f, value: n })))
          : h('p.muted', {}, t('none'))),
      h('div.card', {}, h('h2', {}, `${t('records_this_year')} · ${t('unit')}`),
        communes.length ? barChart(communes) : h('p.muted', {}, t('none')))),
    dueCard,
    h('div.card', {}, h('h2', {}, t('targets_progress')),
      targets.error ? h('p.error-box', {}, targets.error) : progress.length ? progressChart(progress) : h('p.muted', {}, t('no_targets'))),
    h('div.card', {}, h('h2', {}, t('last_sync')),
      devices.error ? h('p.error-box', {}, devices.error) : deviceRows.length === 0 ? h('p.muted', {}, t('none'))
        : h('div.scroll', {}, h('table.cards', {}, h('thead', {}, h('tr', {}, h('th', {}, t('user')), h('th', {}, t('device')), h('th', {}, t('last_contact')))),
          h('tbody', {}, deviceRows.map((d) => h('tr', { class: d.silent ? 'silent' : undefined },
            h('td', { 'data-label': t('user') }, d.user), h('td', { 'data-label': t('device') }, d.device.slice(0, 8)),
            h('td', { 'data-label': t('last_contact') }, `${when(d.last_contact_ms)} (${ago(d.last_contact_ms)})`))))))));
}

// ---- conflicts ----

export async function conflictsPage({ me, main, params }) {
  const filters = ['unit', 'collection', 'field', 'author', 'older_than_days', 'status'];
  const q = new URLSearchParams();
  for (const f of filters) if (params.get(f)) q.set(f, params.get(f));
  const data = await get(`/api/conflicts${q.toString() ? '?' + q : ''}`);
  const unit = unitSelect(me, params.get('unit') || '');
  const collection = formSelect(me, params.get('collection') || '', { allowAll: true });
  const field = h('input', { name: 'field', value: params.get('field') || '', size: 12 });
  const author = h('input', { name: 'author', value: params.get('author') || '', size: 10 });
  const older = h('input', { name: 'older_than_days', type: 'number', min: 0, value: params.get('older_than_days') || '', size: 4 });
  const status = h('select', { name: 'status' }, h('option', { value: '' }, t('open')),
    h('option', { value: 'all', selected: params.get('status') === 'all' }, t('all')));
  const form = h('form.filters', {
    onsubmit: (e) => {
      e.preventDefault();
      setHash('conflicts', { unit: unit.value, collection: collection.value, field: field.value.trim(), author: author.value.trim(),
        older_than_days: older.value, status: status.value });
    },
  }, h('label', {}, t('unit'), unit), h('label', {}, t('form'), collection), h('label', {}, t('field'), field),
  h('label', {}, t('author'), author), h('label', {}, t('older_than_days'), older), h('label', {}, t('status'), status),
  h('button', { type: 'submit' }, t('filter')));
  const forms = formsOf(me);
  const rows = data.conflicts.map((c) => h('tr.clickable', { dataset: { id: c.id }, onclick: () => { location.hash = `#/conflicts/${c.id}`; } },
    h('td', { 'data-label': t('detected') }, when(c.detected_ms)),
    h('td', { 'data-label': t('unit') }, unitName(me, c.scope)),
    h('td', { 'data-label': t('form') }, forms.has(c.collection) ? bi(forms.get(c.collection).title) : c.collection),
    h('td', { 'data-label': t('field') }, fieldLabel(me, c.collection, c.field)),
    h('td', { 'data-label': t('kept') }, `${sideValue(me, c, c.kept)} (${c.kept.user || '?'})`),
    h('td', { 'data-label': t('lost') }, `${sideValue(me, c, c.lost)} (${c.lost.user || '?'})`),
    h('td', { 'data-label': t('status') }, badge(c.status, c.status === 'open' ? t('open') : t('resolved')))));
  main.replaceChildren(h('h1', {}, `${t('conflicts')} (${data.conflicts.length})`), form,
    data.conflicts.length === 0 ? h('p.muted', {}, t('none')) : h('div.scroll', {}, h('table.cards', { id: 'conflict-list' },
      h('thead', {}, h('tr', {}, [t('detected'), t('unit'), t('form'), t('field'), t('kept'), t('lost'), t('status')].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows))));
}

// What a typed value means for the field's type: numbers as numbers, yes/no as booleans, else text.
function typedValue(field, text) {
  const type = field ? field.type : '';
  if (['integer', 'decimal', 'money'].includes(type)) {
    const n = Number(text.replace(/[.\s](?=\d{3}\b)/g, '').replace(',', '.'));
    if (Number.isNaN(n)) throw new Error(`${text}: ${t('value')}?`);
    return n;
  }
  if (type === 'yes_no') return /^(1|true|có|co|yes|y)$/i.test(text.trim());
  if (field && field.type === 'choice' && field.choices) {
    const c = field.choices.find((x) => x.code === text || x.vi === text || x.en === text);
    if (c) return c.code;
  }
  return text;
}

export async function conflictPage(ctx, id) {
  const { me, main } = ctx;
  const { conflict: c, record } = await get(`/api/conflicts/${encodeURIComponent(id)}`);
  const field = fieldOf(me, c.collection, c.field);
  const open = c.status === 'open';
  const reason = h('textarea', { name: 'reason', id: 'reason' });
  const typed = h('input', { name: 'value', id: 'typed-value' });
  const resolve = async (button, body) => {
    if (!reason.value.trim()) return toast(t('reason_needed'), 'error');
    const done = await act(button, () => post(`/api/conflicts/${encodeURIComponent(id)}/resolve`, { ...body, reason: reason.value.trim() }),
      t('resolved_ok'));
    if (done) await conflictPage(ctx, id);
  };
  const sideCard = (side, kind, title) => h('div.side' + (side && side.kept ? '.kept' : ''), { dataset: { side: kind } },
    h('div', {}, h('strong', {}, title), ' ', side && side.kept ? badge('kept', t('kept')) : ''),
    h('div.value', {}, sideValue(me, c, side)),
    side && side.user !== undefined ? h('dl.kv.small', {},
      h('dt', {}, t('user')), h('dd', {}, side.user || '—'),
      h('dt', {}, t('device')), h('dd', {}, (side.device || '').slice(0, 12)),
      h('dt', {}, t('captured')), h('dd', {}, when(side.captured_ms)),
      h('dt', {}, t('received')), h('dd', {}, when(side.received_ms))) : '',
    open && me.reconciler && (kind === 'kept' || kind === 'lost') ? h('button', {
      type: 'button', class: kind === 'kept' ? 'secondary' : undefined, dataset: { take: kind },
      onclick: (e) => resolve(e.currentTarget, { take: kind }),
    }, t('take_this')) : '');
  const forms = formsOf(me);
  const settled = !open ? h('div.card', {}, h('h2', {}, t('resolved')), h('dl.kv', {},
    h('dt', {}, t('resolved_by')), h('dd', {}, c.resolved_by || '—'),
    h('dt', {}, t('received')), h('dd', {}, when(c.resolved_ms)),
    h('dt', {}, t('why')), h('dd', {}, c.reason || '—'),
    h('dt', {}, t('value')), h('dd', { id: 'resolution-value' }, sideValue(me, c, c.resolution)))) : '';
  const actions = open && me.reconciler ? h('div.card', {},
    h('label', {}, t('reason'), reason),
    c.field !== '' ? h('label', {}, t('typed_value'), typed) : '',
    c.field !== '' ? h('button', { type: 'button', id: 'use-typed', onclick: async (e) => {
      let value;
      try { value = typedValue(field, typed.value); } catch (err) { return toast(err.message, 'error'); }
      await resolve(e.currentTarget, { value });
    } }, t('use_typed')) : '') : '';
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/conflicts' }, `← ${t('conflicts')}`)),
    h('h1', {}, `${forms.has(c.collection) ? bi(forms.get(c.collection).title) : c.collection} · ${fieldLabel(me, c.collection, c.field)}`),
    h('p.muted', {}, `${unitName(me, c.scope)} · `, h('a', { href: `#/records/${c.collection}/${c.record}` }, `${t('record')} ${c.record.slice(0, 12)}`),
      ` · ${t('detected')} ${when(c.detected_ms)} · `, badge(c.status, open ? t('open') : t('resolved'))),
    actions,
    h('div.sides', {}, c.agreed ? sideCard(c.agreed, 'agreed', t('agreed')) : '', sideCard(c.kept, 'kept', t('side_kept')),
      sideCard(c.lost, 'lost', t('side_lost'))),
    settled,
    record ? h('div.card', {}, h('h2', {}, t('current_record')), recordFields(me, record)) : '');
}

// ---- records and reviews ----

function recordFields(me, record) {
  const form = formsOf(me).get(record.collection);
  const names = form ? form.fields.map((f) => f.name) : [];
  for (const n of Object.keys(record.fields || {})) if (!names.includes(n)) names.push(n);
  return h('dl.kv', {}, names.filter((n) => record.fields && n in record.fields).map((n) => [
    h('dt', {}, fieldLabel(me, record.collection, n)),
    h('dd', { dataset: { field: n } }, fieldValue(fieldOf(me, record.collection, n), record.fields[n]))]));
}

function reviewActions(me, collection, id, onDone) {
  if (!me.reconciler) return '';
  const comment = h('input', { name: 'comment', placeholder: t('comment'), size: 22 });
  const send = async (button, state) => {
    if (state !== 'approved' && !comment.value.trim()) return toast(t('comment_needed'), 'error');
    const r = await act(button, () => post(`/api/reviews/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`,
      { state, comment: comment.value.trim() }), t('review_saved'));
    if (r && onDone) onDone(r.review);
  };
  return h('div.toolbar.review-actions', {},
    h('button', { type: 'button', dataset: { review: 'approved' }, onclick: (e) => send(e.currentTarget, 'approved') }, t('approve')),
    comment,
    h('button.secondary', { type: 'button', dataset: { review: 'needs_edits' }, onclick: (e) => send(e.currentTarget, 'needs_edits') }, t('ask_edits')),
    h('button.danger', { type: 'button', dataset: { review: 'rejected' }, onclick: (e) => send(e.currentTarget, 'rejected') }, t('reject')));
}

function summary(me, record, count = 3) {
  const form = formsOf(me).get(record.collection);
  const fields = form ? form.fields.filter((f) => ['text', 'choice', 'integer', 'money', 'date'].includes(f.type)) : [];
  return fields.slice(0, count).map((f) => fieldValue(f, record.fields[f.name])).filter((x) => x !== '—').join(' · ');
}

export async function reviewsPage({ me, main, params }) {
  const forms = formsOf(me);
  const collection = params.get('collection') || forms.keys().next().value || '';
  const state = params.get('state') || 'received';
  const formSel = formSelect(me, collection);
  const unit = unitSelect(me, params.get('unit') || '');
  const stateSel = h('select', { name: 'state' }, ['received', 'needs_edits', 'approved', 'rejected'].map((s) =>
    h('option', { value: s, selected: s === state }, t(s === 'received' ? 'received_state' : s))));
  const filters = h('form.filters', { onsubmit: (e) => { e.preventDefault(); setHash('reviews', { collection: formSel.value, unit: unit.value, state: stateSel.value }); } },
    h('label', {}, t('form'), formSel), h('label', {}, t('unit'), unit), h('label', {}, t('status'), stateSel), h('button', { type: 'submit' }, t('filter')));
  const q = new URLSearchParams({ review: state, limit: '100' });
  if (params.get('unit')) q.set('unit', params.get('unit'));
  const data = collection ? await get(`/api/records/${encodeURIComponent(collection)}?${q}`) : { records: [], total: 0 };
  const rows = data.records.map((r) => {
    const stateCell = h('td', { 'data-label': t('review_state') }, badge(r.review, t(r.review === 'received' ? 'received_state' : r.review)));
    return h('tr', { dataset: { id: r.id } },
      h('td', { 'data-label': t('captured') }, when(r.captured_ms)),
      h('td', { 'data-label': t('unit') }, unitName(me, r.scope)),
      h('td', { 'data-label': t('record') }, h('a', { href: `#/records/${r.collection}/${r.id}` }, summary(me, r) || r.id.slice(0, 12))),
      stateCell,
      h('td', {}, reviewActions(me, r.collection, r.id, (review) => {
        stateCell.replaceChildren(badge(review.state, t(review.state)));
      })));
  });
  main.replaceChildren(h('h1', {}, `${t('reviews')} (${data.total})`), filters,
    rows.length === 0 ? h('p.muted', {}, t('none')) : h('div.scroll', {}, h('table.cards', { id: 'review-list' },
      h('thead', {}, h('tr', {}, [t('captured'), t('unit'), t('record'), t('review_state'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows))));
}

export async function recordsPage({ me, main, params }) {
  const forms = formsOf(me);
  const collection = params.get('collection') || forms.keys().next().value || '';
  const offset = Number(params.get('offset')) || 0;
  const formSel = formSelect(me, collection);
  const unit = unitSelect(me, params.get('unit') || '');
  const search = h('input', { name: 'q', type: 'search', value: params.get('q') || '', placeholder: t('search_hint'), size: 24 });
  const filters = h('form.filters', { onsubmit: (e) => { e.preventDefault(); setHash('records', { collection: formSel.value, unit: unit.value, q: search.value.trim() }); } },
    h('label', {}, t('form'), formSel), h('label', {}, t('unit'), unit), h('label', {}, t('search'), search), h('button', { type: 'submit' }, t('search')));
  const q = new URLSearchParams({ offset: String(offset), limit: '50' });
  for (const k of ['unit', 'q']) if (params.get(k)) q.set(k, params.get(k));
  const data = collection ? await get(`/api/records/${encodeURIComponent(collection)}?${q}`) : { records: [], total: 0, columns: [] };
  const cols = data.columns.slice(0, 5);
  const rows = data.records.map((r) => h('tr.clickable', { dataset: { id: r.id }, onclick: () => { location.hash = `#/records/${r.collection}/${r.id}`; } },
    h('td', { 'data-label': t('unit') }, unitName(me, r.scope)),
    cols.map((c) => h('td', { 'data-label': bi(c) }, fieldValue(fieldOf(me, collection, c.name), r.fields[c.name]))),
    h('td', { 'data-label': t('review_state') }, badge(r.review, t(r.review === 'received' ? 'received_state' : r.review)))));
  const page = (to) => setHash('records', { collection, unit: params.get('unit') || '', q: params.get('q') || '', offset: to });
  // A search counts a bounded number of matches: "≥ N" when it stopped counting (partial).
  const total = `${data.partial ? '≥ ' : ''}${number(data.total)}`;
  main.replaceChildren(h('h1', {}, `${t('records')} (${total})`), filters,
    rows.length === 0 ? h('p.muted', {}, t('none')) : h('div.scroll', {}, h('table.cards', { id: 'record-list' },
      h('thead', {}, h('tr', {}, h('th', {}, t('unit')), cols.map((c) => h('th', {}, bi(c))), h('th', {}, t('review_state')))),
      h('tbody', {}, rows))),
    h('div.pager', {},
      h('button.secondary', { type: 'button', disabled: offset === 0, onclick: () => page(Math.max(0, offset - 50)) }, t('previous')),
      h('span.muted', {}, `${offset + 1}–${offset + data.records.length} ${t('of')} ${total}`),
      h('button.secondary', { type: 'button', disabled: !data.next && offset + 50 >= data.total, onclick: () => page(offset + 50) }, t('next'))));
}

export async function recordPage({ me, main }, collection, id) {
  const data = await get(`/api/history/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`);
  const record = data.record;
  const form = formsOf(me).get(collection);
  const photos = h('div.photos');
  const hashes = [];
  for (const f of form ? form.fields : []) {
    const v = record.fields[f.name];
    if ((f.type === 'photo' || f.type === 'file') && typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) hashes.push(v);
  }
  for (const hash of hashes) {
    blob(`/api/files/${hash}`).then((b) => {
      photos.append(b.type.startsWith('image/') ? h('img', { src: URL.createObjectURL(b), alt: t('photos') })
        : h('a', { href: URL.createObjectURL(b), download: hash }, hash.slice(0, 12)));
    }).catch((e) => photos.append(h('p.error-box.small', {}, e.message)));
  }
  const history = data.history.map((v) => h('tr', {},
    h('td', { 'data-label': t('captured') }, when(v.captured_ms)), h('td', { 'data-label': t('received') }, when(v.received_ms)),
    h('td', { 'data-label': t('user') }, v.user), h('td', { 'data-label': t('device') }, v.device.slice(0, 8)),
    h('td', { 'data-label': t('changed') }, v.deleted ? t('deleted') : Object.entries(v.changed).map(([k, x]) =>
      `${fieldLabel(me, collection, k)}: ${fieldValue(fieldOf(me, collection, k), x)}`).join('; '))));
  main.replaceChildren(
    h('p', {}, h('a', { href: `#/records?collection=${encodeURIComponent(collection)}` }, `← ${t('records')}`)),
    h('h1', {}, `${form ? bi(form.title) : collection} · ${summary(me, record) || id.slice(0, 12)}`),
    h('p.muted', {}, `${unitName(me, record.scope)} · ${id}`, record.deleted ? ` ${t('deleted')}` : ''),
    reviewActions(me, collection, id),
    h('div.card', {}, recordFields(me, record)),
    hashes.length ? h('div.card', {}, h('h2', {}, t('photos')), photos) : '',
    h('div.card', {}, h('h2', {}, t('history')), h('div.scroll', {}, h('table.cards', {},
      h('thead', {}, h('tr', {}, [t('captured'), t('received'), t('user'), t('device'), t('changed')].map((x) => h('th', {}, x)))),
      h('tbody', {}, history)))));
}
