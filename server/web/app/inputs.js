// One input per field of a form, for every field type of the form format (docs/forms.md), each
// with a <label> carrying the form's Vietnamese label. `read()` gives the field's value as the
// server's validation takes it (undefined: left empty).
//
//   inputFor(field, value, ctx) -> {node, read}
//   ctx: {id: unique id prefix, settings: photo settings, photos: Map hash -> new photo,
//         heldPhoto(hash) -> a stored photo or undefined, changed(): any input changed}
import { h, bi } from './dom.js';
import { keepFile, shrinkPhoto } from './photo.js';

export function inputFor(field, value, ctx) {
  const id = `${ctx.id}-${field.name}`;
  const label = h('label', { for: id }, field.label?.vi || field.name, field.required ? ' *' : '',
    field.hint?.vi ? h('small', {}, field.hint.vi) : null);
  const made = (maker[field.type] || maker.unknown)(field, value, id, ctx);
  made.input.addEventListener('change', () => ctx.changed());
  return { node: h('div.field', { 'data-field': field.name }, label, made.input), read: made.read };
}

const maker = {
  text: (field, value, id) => {
    const long = (field.max_length || 0) > 200;
    const input = h(long ? 'textarea' : 'input', { id, maxlength: field.max_length, rows: long ? 3 : undefined });
    input.value = value ?? '';
    return { input, read: () => input.value.trim() || undefined };
  },
  integer: (field, value, id) => number(field, value, id, '1'),
  decimal: (field, value, id) => number(field, value, id, 'any'),
  money: (field, value, id) => number(field, value, id, '1'),
  date: (field, value, id) => {
    const input = h('input', { id, type: 'date', value: value ?? '', min: field.min, max: field.max });
    return { input, read: () => input.value || undefined };
  },
  choice: (field, value, id) => {
    const input = h('select', { id }, h('option', { value: '' }, '—'),
      ...field.choices.map((c) => h('option', { value: c.code, selected: c.code === value }, c.vi || c.code)));
    return { input, read: () => input.value || undefined };
  },
  yes_no: (field, value, id) => {
    const input = h('select', { id }, h('option', { value: '' }, '—'),
      h('option', { value: 'true', selected: value === true }, 'Có / Yes'),
      h('option', { value: 'false', selected: value === false }, 'Không / No'));
    return { input, read: () => (input.value === '' ? undefined : input.value === 'true') };
  },
  multi_choice: (field, value, id) => {
    const boxes = field.choices.map((c) => h('input', { type: 'checkbox', value: c.code, checked: (value || []).includes(c.code) }));
    const input = h('div.choices', { id }, ...boxes.map((b, i) => h('label', {}, b, field.choices[i].vi || field.choices[i].code)));
    return { input, read: () => { const v = boxes.filter((b) => b.checked).map((b) => b.value); return v.length ? v : undefined; } };
  },
  // The point where the survey was made, when the worker allows it: {lat, lon, accuracy_m}.
  gps: (field, value, id) => {
    let point = value ?? undefined;
    const shown = h('span', {}, pointText(point));
    const button = h('button.secondary', { type: 'button', id, onclick: () => {
      if (!navigator.geolocation) { shown.textContent = bi('Máy không có GPS', 'No GPS on this phone'); return; }
      shown.textContent = bi('Đang lấy vị trí…', 'Finding the location…');
      navigator.geolocation.getCurrentPosition((pos) => {
        point = { lat: round(pos.coords.latitude, 6), lon: round(pos.coords.longitude, 6), accuracy_m: round(pos.coords.accuracy, 1) };
        shown.textContent = pointText(point);
        input.dispatchEvent(new Event('change'));
      }, (err) => {
        shown.textContent = err.code === 1 ? bi('Chưa cho phép lấy vị trí', 'Location not allowed') : bi('Không lấy được vị trí', 'No location found');
      }, { enableHighAccuracy: true, timeout: 30_000, maximumAge: 60_000 });
    } }, bi('Lấy vị trí', 'Get the location'));
    const input = h('div.gps', {}, button, shown);
    return { input, read: () => point };
  },
  // A photo from the camera: shrunk and named by its hash; the bytes go with the record's change.
  photo: (field, value, id, ctx) => fileInput(field, value, id, ctx, 'image/*'),
  file: (field, value, id, ctx) => fileInput(field, value, id, ctx, undefined),
  // A repeated group (household members, animals): entries of the group's own fields.
  group: (field, value, id, ctx) => {
    const entries = [];
    const list = h('div.group', { id });
    const add = (entryValue) => {
      const n = entries.length;
      const inputs = field.fields.map((f) => [f.name, inputFor(f, entryValue?.[f.name], { ...ctx, id: `${id}-${n}` })]);
      const entry = { inputs, removed: false };
      const node = h('fieldset.card', {}, h('legend', {}, `${field.label?.vi || field.name} ${n + 1}`),
        ...inputs.map(([, i]) => i.node),
        h('button.secondary', { type: 'button', onclick: () => { entry.removed = true; node.remove(); ctx.changed(); } },
          bi('Xoá mục này', 'Remove this entry')));
      entries.push(entry);
      list.append(node);
    };
    for (const entryValue of Array.isArray(value) ? value : []) add(entryValue);
    const input = h('div', {}, list, h('button.secondary', { type: 'button', id: `${id}-add`, onclick: () => { add(); ctx.changed(); } },
      bi(`Thêm ${(field.label?.vi || '').toLowerCase()}`, 'Add an entry')));
    return {
      input,
      read: () => {
        const out = entries.filter((e) => !e.removed).map((e) => {
          const o = {};
          for (const [name, i] of e.inputs) { const v = i.read(); if (v !== undefined) o[name] = v; }
          return o;
        });
        return out.length ? out : undefined;
      },
    };
  },
  unknown: (field, value, id) => {
    const input = h('p', { id }, h('small', {}, bi(`kiểu '${field.type}' chưa có trong ứng dụng`, `type '${field.type}' is not in the app`)));
    return { input, read: () => value ?? undefined };
  },
};

function number(field, value, id, step) {
  const input = h('input', { id, type: 'number', inputmode: step === '1' ? 'numeric' : 'decimal', step, min: field.min, max: field.max, value: value ?? '' });
  return { input, read: () => (input.value === '' ? undefined : Number(input.value)) };
}

function fileInput(field, value, id, ctx, accept) {
  let hash = value ?? undefined;
  const preview = h('div.photo');
  const show = async () => {
    preview.replaceChildren();
    if (!hash) return;
    const held = ctx.photos.get(hash) || await ctx.heldPhoto(hash);
    if (held && (held.type || '').startsWith('image/')) {
      const url = URL.createObjectURL(new Blob([held.bytes], { type: held.type }));
      preview.append(h('img', { src: url, alt: field.label?.vi || field.name, onload: () => URL.revokeObjectURL(url) }));
    }
    preview.append(h('small', {}, held ? `${Math.round(held.bytes.byteLength / 1024)} KB` : bi('ảnh trên máy chủ', 'on the server')));
  };
  const picker = h('input', { id, type: 'file', accept, capture: accept ? 'environment' : undefined, onchange: async () => {
    const file = picker.files[0];
    if (!file) return;
    preview.replaceChildren(h('small', {}, bi('Đang thu nhỏ ảnh…', 'Shrinking the photo…')));
    const photo = accept ? await shrinkPhoto(file, ctx.settings) : await keepFile(file);
    ctx.photos.set(photo.hash, photo);
    hash = photo.hash;
    await show();
    ctx.changed();
  } });
  show();
  return { input: h('div', {}, picker, preview), read: () => hash };
}

const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;
const pointText = (p) => (p ? `${p.lat}, ${p.lon} (±${p.accuracy_m ?? '?'} m)` : bi('chưa có vị trí', 'no location yet'));

//! Whether a field is asked, as the server's validation decides it (form.cpp: relevant).
export function relevant(field, values) {
  const r = field.relevant;
  if (!r) return true;
  const v = values[r.field];
  if (v === undefined || v === null) return false;
  const wanted = r.in || (r.equals !== undefined ? [r.equals] : []);
  if (!wanted.length) return true;
  return wanted.some((w) => w === v || (Array.isArray(v) && v.includes(w)));
}
