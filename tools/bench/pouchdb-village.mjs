// The peer's commune day for tools/bench/village-2g.sh: N households, each a survey document with
// its photo as an attachment and a needs proposal document, written to a local PouchDB, then
// replicated to pouchdb-server over the poor link, again after every failure (as an app would),
// until everything is there or --max-seconds pass. Prints {"seconds", "attempts", "docs", "finished"}.
// Usage: node pouchdb-village.mjs --remote URL --households N --photos DIR --work DIR [--max-seconds S]
import fs from 'node:fs';
import path from 'node:path';
import PouchDB from 'pouchdb';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const households = Number(args.households);
const maxSeconds = Number(args['max-seconds'] ?? 3600);  // then report what it reached, unfinished
fs.mkdirSync(args.work, { recursive: true });
const local = new PouchDB(path.join(args.work, 'phone'));

for (let i = 1; i <= households; i += 1) {
  const village = `Thôn ${(i % 5) + 1}`;
  await local.put({
    _id: `household_survey:${i}`,
    chu_ho: `Hộ gia đình số ${i}`, thon: village, so_nhan_khau: (i % 7) + 2, tinh_trang_ngheo: 'ngheo',
    nha_tam: true, ly_do_ngheo: 'Thiếu đất sản xuất, không có vốn', ngay_khao_sat: '2026-03-02',
    tam_tu_nguyen_vong: 'Mong được hỗ trợ bò giống và tập huấn kỹ thuật chăn nuôi',
    _attachments: {
      'anh_nha.jpg': { content_type: 'image/jpeg', data: fs.readFileSync(path.join(args.photos, `${i}.jpg`)) },
    },
  });
  await local.put({
    _id: `needs_proposal:${i}`,
    nam: 2026, linh_vuc: 'chan_nuoi', vat_nuoi: 'bo_sinh_san', noi_dung: `Hỗ trợ bò sinh sản cho hộ số ${i}`,
    dia_diem: village, so_ho_tham_gia: 1, kinh_phi_du_kien: 15000000,
  });
}

const start = process.hrtime.bigint();
let attempts = 0;
for (;;) {
  attempts += 1;
  try {
    const result = await local.replicate.to(args.remote, { retry: false, timeout: 60000 });
    if (result.ok) {
      const remoteInfo = await new PouchDB(args.remote).info();
      if (remoteInfo.doc_count >= 2 * households) break;
    }
  } catch {
    // cut: try again, as the app would
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  if (attempts >= 500 || elapsed > maxSeconds) {
    console.log(JSON.stringify({ seconds: elapsed, attempts, docs: 2 * households, finished: false }));
    process.exit(0);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
await local.close();
console.log(JSON.stringify({ seconds, attempts, docs: 2 * households, finished: true }));
process.exit(0);
