// The office pages: the programme's reports (on screen and as files), devices, and users and units.
import { bi, t } from './i18n.js';
import { act, download, get, h, post, toast } from './api.js';
import { ago, badge, duration, sheetTable, when } from './show.js';
import { unitSelect } from './pages_work.js';

function setHash(page, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined));
  location.hash = `#/${page}${q.toString() ? '?' + q : ''}`;
}

// ---- reports ----

export async function reportsPage({ me, main, params }) {
  const year = Number(params.get('year')) || new Date().getFullYear();
  const kind = params.get('kind') || 'targets';
  const unitCode = params.get('unit') || '';
  const yearIn = h('input', { name: 'year', type: 'number', min: 2000, max: 2100, value: year, size: 5 });
  const kindSel = h('select', { name: 'kind' }, ['targets', 'form1', 'form2', 'due', 'twinning', 'review']
    .map((k) => h('option', { value: k, selected: k === kind }, t(k))));
  const unit = unitSelect(me, unitCode);
  // The review covers the five years up to the year chosen (Directive 23: "05 năm tổ chức tổng kết").
  const q = new URLSearchParams(kind === 'review' ? { from: String(year - 4), to: String(year) } : { year: String(year) });
  if (unitCode) q.set('unit', unitCode);
  const file = (format) => `${kind}-${year}${unitCode ? '-' + unitCode : ''}.${format}`;
  const downloadButton = (format, label) => h('button.secondary', {
    type: 'button', dataset: { download: format },
    onclick: (e) => act(e.currentTarget, () => download(`/api/reports/${kind}?${q}&format=${format}`, file(format)), `${t('downloaded')}: ${file(format)}`),
  }, label);
  const filters = h('form.filters', { onsubmit: (e) => { e.preventDefault(); setHash('reports', { year: yearIn.value, kind: kindSel.value, unit: unit.value }); } },
    h('label', {}, t('year'), yearIn), h('label', {}, t('report_kind'), kindSel), h('label', {}, t('unit'), unit),
    h('button', { type: 'submit' }, t('show')), downloadButton('xlsx', t('download_xlsx')), downloadButton('csv', t('download_csv')));
  const report = await get(`/api/reports/${kind}?${q}`);
  const sections = report.sections.map((s) => h('div.card', { dataset: { section: s.name } }, h('h2', {}, bi(s.title)),
    s.rows.length ? sheetTable(s.columns, s.rows) : h('p.muted', {}, t('none'))));
  const assessments = (report.assessments || []).map((a) => h('tr', {},
    h('td', { 'data-label': t('name') }, a.name),
    h('td', { 'data-label': t('grade') }, badge(a.grade, bi(a.grade_label))),
    h('td', { 'data-label': t('why') }, bi(a.grade_reason),
      h('ul.small', {}, (a.checks || []).map((c) => h('li', { class: c.met ? 'good' : 'bad' }, `${bi(c.label)}: ${bi(c.reason)}`))))));
  main.replaceChildren(h('h1', {}, bi(report.title)), filters,
    assessments.length ? h('div.card', {}, h('h2', {}, t('assessments')), h('div.scroll', {}, h('table.cards', { id: 'assessments' },
      h('thead', {}, h('tr', {}, [t('name'), t('grade'), t('why')].map((x) => h('th', {}, x)))), h('tbody', {}, assessments)))) : '',
    ...sections);
}

// ---- devices ----

export async function devicesPage({ main }) {
  const data = await get('/api/devices');
  const now = data.server_time_ms;
  const rows = [...data.devices].sort((a, b) => (b.silent - a.silent) || (a.last_contact_ms - b.last_contact_ms)).map((d) => h('tr',
    { class: d.silent ? 'silent' : undefined, dataset: { device: d.device } },
    h('td', { 'data-label': t('device') }, d.device.slice(0, 12), d.revoked ? [' ', badge('rejected', t('revoked'))] : ''),
    h('td', { 'data-label': t('user') }, d.user),
    h('td', { 'data-label': t('last_contact') }, `${when(d.last_contact_ms)} (${ago(d.last_contact_ms, now)})`,
      d.silent ? [' ', badge('weak', t('silent_for', { n: data.device_silent_days }))] : ''),
    h('td', { 'data-label': t('clock_offset') }, d.clock_offset_ms === 0 ? '0'
      : `${duration(d.clock_offset_ms)} ${d.clock_offset_ms > 0 ? t('behind') : t('ahead')}`),
    h('td', { 'data-label': t('app_version') }, d.client_version || '—'),
    h('td', { 'data-label': t('oldest_pending') }, d.pending_age_ms > 0 ? duration(d.pending_age_ms) : t('none_pending')),
    h('td', { 'data-label': t('first_contact') }, when(d.first_contact_ms))));
  main.replaceChildren(h('h1', {}, `${t('devices')} (${data.devices.length})`),
    h('p.muted', {}, t('silent_for', { n: data.device_silent_days })),
    rows.length === 0 ? h('p.muted', {}, t('none')) : h('div.scroll', {}, h('table.cards', { id: 'device-list' },
      h('thead', {}, h('tr', {}, [t('device'), t('user'), t('last_contact'), t('clock_offset'), t('app_version'), t('oldest_pending'), t('first_contact')]
        .map((x) => h('th', {}, x)))), h('tbody', {}, rows))));
}

// ---- users and units (admins) ----

const grantList = (text) => text.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);

export async function adminPage(ctx) {
  const { me, main } = ctx;
  if (!me.admin) return main.replaceChildren(h('p.error-box', {}, t('admin_only')));
  const [users, units] = await Promise.all([get('/admin/users'), get('/admin/units')]);
  const again = () => adminPage(ctx);

  const name = h('input', { name: 'name', required: true, size: 12 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', size: 12 });
  const grants = h('input', { name: 'grants', size: 30, placeholder: 'reconciler:49-NTM, field:MAU-X01' });
  const added = h('div');
  const addForm = h('form.filters', { id: 'add-user', onsubmit: async (e) => {
    e.preventDefault();
    const r = await act(e.submitter, () => post('/admin/users', { name: name.value.trim(), password: password.value || undefined, grants: grantList(grants.value) }));
    if (r) {
      toast(t('done'));
      await again();
      main.querySelector('#add-user-result').replaceChildren(h('p.card', {}, t('user_added'), ' ', h('code', {}, r.token)));
    }
  } }, h('label', {}, t('name'), name), h('label', {}, t('password'), password), h('label', {}, t('grants'), grants),
  h('button', { type: 'submit' }, t('add_user')));
  added.id = 'add-user-result';

  const userRows = users.users.map((u) => {
    const change = h('input', { size: 24, placeholder: 'ROLE:UNIT', 'aria-label': t('grants') });
    return h('tr', { dataset: { user: u.name } },
      h('td', { 'data-label': t('name') }, u.name, u.disabled ? [' ', badge('rejected', t('disabled'))] : ''),
      h('td', { 'data-label': t('grants') }, u.grants.join(', ')),
      h('td', { 'data-label': t('devices') }, String(u.devices.length)),
      h('td', {}, h('div.toolbar', {}, change,
        h('button.secondary', { type: 'button', onclick: async (e) => {
          if (await act(e.currentTarget, () => post(`/admin/users/${encodeURIComponent(u.name)}/grant`, { grants: grantList(change.value) }), t('done'))) again();
        } }, t('grant')),
        h('button.secondary', { type: 'button', onclick: async (e) => {
          if (await act(e.currentTarget, () => post(`/admin/users/${encodeURIComponent(u.name)}/revoke`, { grants: grantList(change.value) }), t('done'))) again();
        } }, t('revoke')),
        u.disabled ? '' : h('button.danger', { type: 'button', onclick: async (e) => {
          if (!window.confirm(`${t('disable_user')} ${u.name}? ${t('confirm')}`)) return;
          if (await act(e.currentTarget, () => post(`/admin/users/${encodeURIComponent(u.name)}/revoke`, { all: true }), t('done'))) again();
        } }, t('disable_user')))));
  });

  const csv = h('textarea', { name: 'csv', placeholder: 'code,parent_code,level,name' });
  const fileIn = h('input', { type: 'file', accept: '.csv,text/csv', onchange: async () => { if (fileIn.files[0]) csv.value = await fileIn.files[0].text(); } });
  const importForm = h('form', { id: 'import-units', onsubmit: async (e) => {
    e.preventDefault();
    const r = await act(e.submitter, () => post('/admin/units/import', csv.value, 'text/csv'));
    if (r) { toast(t('imported', { a: r.added, u: r.updated, n: r.unchanged })); again(); }
  } }, h('label', {}, t('import_units'), fileIn, csv), h('button', { type: 'submit' }, t('import')));

  main.replaceChildren(h('h1', {}, t('admin')),
    h('div.card', {}, h('h2', {}, t('add_user')), addForm, added),
    h('div.card', {}, h('h2', {}, `${t('users')} (${users.users.length})`), h('div.scroll', {}, h('table.cards', { id: 'user-list' },
      h('thead', {}, h('tr', {}, [t('name'), t('grants'), t('devices'), ''].map((x) => h('th', {}, x)))), h('tbody', {}, userRows)))),
    h('div.card', {}, h('h2', {}, `${t('units')} (${units.units.length})`), importForm,
      h('div.scroll', {}, h('table.cards', { id: 'unit-list' },
        h('thead', {}, h('tr', {}, [t('unit'), t('name'), t('level'), t('parent')].map((x) => h('th', {}, x)))),
        h('tbody', {}, units.units.map((u) => h('tr', {}, h('td', { 'data-label': t('unit') }, u.code), h('td', { 'data-label': t('name') }, u.name),
          h('td', { 'data-label': t('level') }, u.level), h('td', { 'data-label': t('parent') }, u.parent_code))))))));
}
