// How values look on the page: times, durations, field values with their labels, small SVG charts
// (written by hand: two chart shapes do not justify a charting library on a 3G phone).
import { bi, language, t } from './i18n.js';
import { h } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

//! A time as the province reads it (Asia/Ho_Chi_Minh), "—" when unknown.
export function when(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(language() === 'vi' ? 'vi-VN' : 'en-GB',
    { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' });
}

//! A length of time in the largest unit that fits: "3 ngày", "5 hours".
export function duration(ms) {
  const a = Math.abs(ms);
  if (a >= 86400000) return `${Math.floor(a / 86400000)} ${t('days')}`;
  if (a >= 3600000) return `${Math.floor(a / 3600000)} ${t('hours')}`;
  if (a >= 60000) return `${Math.floor(a / 60000)} ${t('minutes')}`;
  return `${Math.round(a / 1000)} ${t('seconds')}`;
}

export function ago(ms, now = Date.now()) {
  if (!ms) return t('never');
  return language() === 'vi' ? `${duration(now - ms)} ${t('ago')}` : `${duration(now - ms)} ${t('ago')}`;
}

export function number(n) {
  return typeof n === 'number' ? n.toLocaleString(language() === 'vi' ? 'vi-VN' : 'en-GB') : n;
}

//! A field's value as people read it: choices by their label, yes/no in words, groups as lines.
export function fieldValue(field, value) {
  if (value === null || value === undefined) return '—';
  if (field && field.type === 'choice' && field.choices) {
    const c = field.choices.find((x) => x.code === value);
    return c ? bi(c) : String(value);
  }
  if (field && field.type === 'multi_choice' && Array.isArray(value) && field.choices) {
    return value.map((v) => { const c = field.choices.find((x) => x.code === v); return c ? bi(c) : v; }).join(', ');
  }
  if (typeof value === 'boolean') return value ? (language() === 'vi' ? 'Có' : 'Yes') : (language() === 'vi' ? 'Không' : 'No');
  if (typeof value === 'number') return number(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

//! Horizontal bars: rows of {label, value}; the longest bar is the largest value.
export function barChart(rows, { title } = {}) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const rowH = 22;
  const labelW = 170;
  const width = 560;
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${rows.length * rowH + 6}`, role: 'img',
    'aria-label': title || '' });
  rows.forEach((r, i) => {
    const y = i * rowH + 3;
    const w = Math.round(((width - labelW - 60) * r.value) / max);
    chart.append(svg('text', { x: 0, y: y + 14 }, r.label.length > 26 ? r.label.slice(0, 25) + '…' : r.label));
    chart.append(svg('rect', { class: 'bar', x: labelW, y, width: Math.max(w, 1), height: rowH - 6, rx: 2 }));
    chart.append(svg('text', { x: labelW + w + 6, y: y + 14 }, number(r.value)));
  });
  return chart;
}

//! Progress bars against a goal: rows of {label, actual, required}; 100% marked, over it capped.
export function progressChart(rows) {
  const rowH = 24;
  const labelW = 230;
  const width = 600;
  const barW = width - labelW - 90;
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${rows.length * rowH + 6}`, role: 'img' });
  rows.forEach((r, i) => {
    const y = i * rowH + 3;
    const share = r.required > 0 ? r.actual / r.required : (r.actual > 0 ? 1 : 0);
    const w = Math.round(barW * Math.min(share, 1));
    const kind = share >= 1 ? '' : share > 0 ? ' partial' : ' none';
    chart.append(svg('text', { x: 0, y: y + 15 }, r.label.length > 36 ? r.label.slice(0, 35) + '…' : r.label));
    chart.append(svg('rect', { class: 'track', x: labelW, y, width: barW, height: rowH - 8, rx: 2 }));
    chart.append(svg('rect', { class: 'bar' + kind, x: labelW, y, width: Math.max(w, 1), height: rowH - 8, rx: 2 }));
    chart.append(svg('text', { x: labelW + barW + 6, y: y + 15 }, `${number(r.actual)}/${number(r.required)}`));
  });
  return chart;
}

//! A table of a report's section or an export: columns {name, vi, en}, rows of cells.
export function sheetTable(columns, rows, { onRow, rowClass } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', {}, bi(c))));
  const body = rows.map((cells, i) => h('tr', { class: [onRow ? 'clickable' : '', rowClass ? rowClass(cells, i) : ''].join(' ').trim() || undefined,
    onclick: onRow ? () => onRow(cells, i) : undefined },
  cells.map((v, k) => h(typeof v === 'number' ? 'td.num' : 'td', { 'data-label': bi(columns[k] || '') },
    typeof v === 'boolean' ? fieldValue(null, v) : v === null ? '' : typeof v === 'number' ? number(v) : v))));
  return h('div.scroll', {}, h('table.cards', {}, h('thead', {}, head), h('tbody', {}, body)));
}

export function badge(kind, text) { return h('span.badge.' + kind, {}, text); }
