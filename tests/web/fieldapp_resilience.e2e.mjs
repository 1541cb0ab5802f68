// The field app when the link and the server fail it: (1) a sync cut by a proxy at every few hundred
// bytes swept across a push of five households and its answer loses nothing and doubles nothing;
// (2) a server restored from an older backup gets back every record the phone had that the backup
// lacked (the incarnation rule: checkpoints beyond the server's latest); (3) a new release of the
// app reaches the phone at its next online visit, and nothing stored is lost; and a photo larger
// than what the link carries before it drops arrives whole, each sync resuming the last; (4) a
// phone that stays away while the server purges deletions it never saw resynchronises its commune:
// the deleted households leave it, its own waiting edits reach the server, and an edit of a deleted
// household is refused with the reason, not merged into a household of that edit alone.
//
//   node fieldapp_resilience.e2e.mjs --build <build> --artifacts <dir>
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startCuttingProxy } from './cutting_proxy.mjs';
import { api, fieldAppTest, heldRecords, logIn, syncApp } from './phone.mjs';

const t = await fieldAppTest('field app resilience e2e', 5);
const { work, step } = t;

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

// A household as the worker fills it, offline or not (with a photo: a PNG's bytes).
async function survey(page, name, size, photo) {
  await page.click('li[data-form=household_survey]');
  await page.click('#new-record');
  await page.getByLabel('Họ tên chủ hộ').fill(name);
  await page.getByLabel('Thôn', { exact: false }).first().fill('Thôn Cắt');
  await page.getByLabel('Số nhân khẩu').fill(String(size));
  await page.getByLabel('Tình trạng nghèo').selectOption('khong_ngheo');
  await page.getByLabel('Nhà tạm, dột nát?').selectOption('false');
  await page.getByLabel('Ngày khảo sát').fill('2026-12-03');
  if (photo) {
    await page.setInputFiles('#f-anh_nha', { name: 'nha.png', mimeType: 'image/png', buffer: photo });
    await page.waitForSelector('[data-field=anh_nha] img', { timeout: 20_000 });
  }
  await page.click('#save');
  await page.waitForSelector(`li[data-record]:has-text("${name}")`);
  await page.click('button:has-text("Quay lại")');
}

// An edit of a household's size, saved on the phone.
async function editSize(page, name, size) {
  await page.click('li[data-form=household_survey]');
  await page.click(`li[data-record]:has-text("${name}")`);
  await page.getByLabel('Số nhân khẩu').fill(String(size));
  await page.click('#save');
  await page.waitForSelector(`li[data-record]:has-text("${name}")`);
  await page.click('button:has-text("Quay lại")');
}

// A press of Sync that ends, well or not (the proxy may cut it anywhere).
async function trySync(page) {
  const before = await page.getAttribute('#status', 'data-synced-at');
  await page.click('#sync');
  await page.waitForFunction((previous) => {
    const status = document.getElementById('status');
    return status.dataset.syncedAt !== previous || status.textContent.includes('Không đồng bộ được');
  }, before ?? undefined, { timeout: 20_000 });
  await page.waitForFunction(() => !document.getElementById('sync').dataset.running, null, { timeout: 20_000 });
}

// The household records the server holds, each with how many changes of it were accepted.
async function onServer(base, admin, prefix) {
  const { body } = await api(base, admin, 'GET', `/api/records/household_survey?limit=500`);
  const out = new Map();
  for (const r of body.records.filter((x) => String(x.fields.chu_ho).startsWith(prefix))) {
    const history = (await api(base, admin, 'GET', `/api/history/household_survey/${r.id}`)).body.history;
    out.set(r.fields.chu_ho, { size: r.fields.so_nhan_khau, versions: history.length });
  }
  return out;
}

await t.run(async () => {
  const port = await freePort();
  // The pages from a copy, so that a new release can be put in place (3).
  const web = path.join(work, 'web');
  fs.cpSync(path.join(t.build, 'server/web'), web, { recursive: true, dereference: true });
  const start = () => t.startServer('data', `127.0.0.1:${port}`, web);
  let { server, base, admin } = await start();
  assert.equal((await api(base, admin, 'POST', '/admin/users', { name: 'an', password: 'mat-khau-cua-an', grants: ['field:MAU-X01'] })).status, 201);

  step('through a cutting proxy: log in, then five households offline');
  const proxy = await startCuttingProxy(port);
  t.onCleanup(proxy.close);
  const context = await t.openPhone('phone');
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`http://127.0.0.1:${proxy.port}/app/`);
  await logIn(page, 'an', 'mat-khau-cua-an');
  await context.setOffline(true);
  const names = ['Cắt Văn Một', 'Cắt Thị Hai', 'Cắt Văn Ba', 'Cắt Thị Bốn', 'Cắt Văn Năm'];
  for (const [i, name] of names.entries()) await survey(page, name, i + 1);
  // Another device of the commune records meanwhile: the phone's sync pulls those after its push's
  // answer (its own new households it does not pull back: docs/protocol.md 5.2), so cuts land there.
  const cli = (...args) => execFileSync(path.join(t.build, 'tools/communesync'), ['--home', path.join(work, 'cli'), ...args],
    { encoding: 'utf8', timeout: 60_000 }).trim();
  const binh = (await api(base, admin, 'POST', '/admin/users', { name: 'binh', grants: ['field:MAU-X01'] })).body;
  cli('login', '--server', `ws://127.0.0.1:${port}`, '--token', binh.token);
  for (const [i, name] of ['Khác Văn Một', 'Khác Thị Hai', 'Khác Văn Ba'].entries()) {
    cli('put', 'household_survey', '--scope', 'MAU-X01', `chu_ho=${name}`, 'thon=Thôn 2', `so_nhan_khau:=${i + 2}`,
      'tinh_trang_ngheo=ngheo', 'nha_tam:=false', 'ly_do_ngheo=Thiếu đất sản xuất', 'ngay_khao_sat=2026-03-02');
  }
  cli('sync');
  proxy.limit = 300;  // the app syncs by itself as the signal returns: that one is cut too
  await context.setOffline(false);

  step('syncs cut at every 150 bytes from the upgrade through the push and its answer');
  const waiting = [];  // the outbox after each cut sync: 5 until the push's answer gets through
  for (let limit = 300; limit <= 5000; limit += 150) {
    proxy.limit = limit;
    const cutsBefore = proxy.cuts;
    await trySync(page);
    if (proxy.cuts > cutsBefore) waiting.push(Number((await page.textContent('#status')).match(/Waiting: (\d+)/)[1]));
  }
  console.log(`   outbox after each cut: ${waiting.join(' ')}`);
  // The sweep covered the push: cuts before its answer (all five still waiting) and after it.
  assert.ok(waiting.includes(5) && waiting.includes(0), `the cuts did not straddle the push: ${waiting}`);
  proxy.limit = Infinity;
  await syncApp(page);
  const held = await onServer(base, admin, 'Cắt ');
  assert.deepEqual([...held.keys()].sort(), [...names].sort(), 'every household is on the server, once');
  for (const [i, name] of names.entries()) {
    assert.deepEqual(held.get(name), { size: i + 1, versions: 1 }, `${name}: one accepted change, not two`);
  }

  step('a photo through a link that drops every 60 KB: each sync resumes where the server\'s bytes end');
  // A picture of noise: its JPEG stays large (a few hundred KB), many pieces of 32 KiB.
  const noise = Buffer.from(await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1000;
    canvas.height = 750;
    const g = canvas.getContext('2d');
    const pixels = g.createImageData(1000, 750);
    crypto.getRandomValues(pixels.data.subarray(0, 65536));
    for (let i = 65536; i < pixels.data.length; i += 65536) pixels.data.copyWithin(i, 0, 65536);
    for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
    for (let i = 0; i < pixels.data.length; i += 997) pixels.data[i] = (i * 31) & 255;
    g.putImageData(pixels, 0, 0);
    const bytes = new Uint8Array(await (await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'))).arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }), 'base64');
  proxy.limit = 60_000;
  const cutsBefore = proxy.cuts;
  await survey(page, 'Ảnh Văn Tám', 8, noise);
  let photoSent = false;
  for (let attempt = 0; attempt < 20 && !photoSent; ++attempt) {
    await trySync(page);
    photoSent = /ảnh 1/.test(await page.textContent('#status'));
  }
  assert.ok(photoSent, `the photo did not get through: ${await page.textContent('#status')}`);
  proxy.limit = Infinity;
  const [withPhoto] = (await api(base, admin, 'GET', '/api/records/household_survey?q=Anh%20Van%20Tam')).body.records;
  const served = await fetch(`${base}/api/files/${withPhoto.fields.anh_nha}`, { headers: { Authorization: `Bearer ${admin}` } });
  const bytes = Buffer.from(await served.arrayBuffer());
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), withPhoto.fields.anh_nha, 'whole and right');
  const cutsOnThePhoto = proxy.cuts - cutsBefore;
  console.log(`   a ${bytes.length}-byte photo over a link cut ${cutsOnThePhoto} times`);
  assert.ok(bytes.length > 3 * 60_000 && cutsOnThePhoto >= 3, 'more than three link-lengths: only resuming gets it through');

  step('a backup taken now; two more households; the server restored from the backup');
  await t.stopServer(server);
  fs.cpSync(path.join(work, 'data'), path.join(work, 'backup'), { recursive: true });
  ({ server, base, admin } = await start());
  await survey(page, 'Sau Văn Sáu', 6);
  await survey(page, 'Sau Thị Bảy', 7);
  await syncApp(page);
  assert.equal((await onServer(base, admin, 'Sau ')).size, 2);
  await t.stopServer(server);
  fs.rmSync(path.join(work, 'data'), { recursive: true });
  fs.cpSync(path.join(work, 'backup'), path.join(work, 'data'), { recursive: true });
  ({ server, base, admin } = await start());
  assert.equal((await onServer(base, admin, 'Sau ')).size, 0, 'the backup lacks them');

  step('the phone syncs: its checkpoints are beyond the server\'s latest, it sends everything again');
  await syncApp(page);
  const back = await onServer(base, admin, 'Sau ');
  assert.deepEqual(Object.fromEntries([...back].map(([k, v]) => [k, v.size])), { 'Sau Văn Sáu': 6, 'Sau Thị Bảy': 7 });
  assert.equal((await onServer(base, admin, 'Cắt ')).size, 5, 'the older ones are there too');
  assert.equal((await onServer(base, admin, 'Ảnh ')).size, 1);
  assert.match(await page.textContent('#status'), /Waiting: 0/);

  step('a new release on the server: the phone is told at its next visit and reopens on it');
  await t.stopServer(server);
  const css = path.join(web, 'app/app.css');
  fs.writeFileSync(css, `${fs.readFileSync(css, 'utf8')}\nbody { --release: 2; }\n`);
  ({ server, base, admin } = await start());
  await page.reload();  // the next visit (through the proxy, which now lets everything pass)
  await page.waitForSelector('li[data-form=household_survey]');
  await page.click('#update', { timeout: 30_000 });
  await page.waitForSelector('li[data-form=household_survey]');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).getPropertyValue('--release').trim()), '2');
  assert.match(await page.textContent('li[data-form=household_survey]'), /\(11\)/, 'the eleven households (eight of its own, three of the other device) are still on the phone');

  step('the phone out of reach edits two households and surveys one; another device deletes two');
  proxy.limit = 1;  // every sync of the phone is cut at once
  await editSize(page, 'Cắt Văn Một', 11);
  await editSize(page, 'Cắt Thị Hai', 22);
  await survey(page, 'Mới Văn Chín', 9);
  cli('sync');
  const idOf = (name) => JSON.parse(cli('export').split('\n').find((line) => line.includes(name))).id;
  for (const name of ['Cắt Thị Hai', 'Cắt Văn Ba']) cli('delete', 'household_survey', idOf(name));
  cli('sync');

  step('the server purges those deletions (tombstone retention), then the phone syncs: a resync');
  await t.stopServer(server);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const purged = execFileSync(path.join(t.build, 'tests/web/purge_tombstones'), [path.join(work, 'data'), String(Date.now())],
    { encoding: 'utf8' }).trim();
  assert.equal(purged, '2', 'the two deletions');
  ({ server, base, admin } = await start());
  proxy.limit = Infinity;
  await syncApp(page);
  assert.match(await page.textContent('#status'), /tải lại toàn bộ xã, bỏ 2 bản ghi/, 'the worker is told');
  assert.equal((await heldRecords(page, 'chu_ho', 'Cắt Văn Ba')).length, 0, 'deleted on the server: gone from the phone');
  assert.equal((await heldRecords(page, 'chu_ho', 'Cắt Thị Hai')).length, 0);
  assert.equal((await heldRecords(page, 'chu_ho', 'Cắt Thị Bốn')).length, 1, 'the others are sent again');
  const now = await onServer(base, admin, 'Cắt ');
  assert.deepEqual([...now.keys()].sort(), ['Cắt Thị Bốn', 'Cắt Văn Một', 'Cắt Văn Năm']);
  assert.equal(now.get('Cắt Văn Một').size, 11, 'the waiting edit reached the server');
  assert.equal((await onServer(base, admin, 'Mới ')).get('Mới Văn Chín')?.size, 9, 'and the new household');
  await page.click('#status-page');
  assert.match(await page.textContent('#refused'), /deleted long ago/, 'the edit of a deleted household is refused, and kept');
  cli('sync');
  const onCli = cli('export').split('\n').map((line) => JSON.parse(line))
    .filter((r) => r.collection === 'household_survey').map((r) => r.id);
  const onPhone = await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('communesync-field');
    open.onsuccess = () => {
      const get = open.result.transaction('records').objectStore('records').getAll();
      get.onsuccess = () => {
        resolve(get.result.filter((r) => r.collection === 'household_survey' && !r.deleted).map((r) => r.id));
        open.result.close();
      };
      get.onerror = () => reject(get.error);
    };
  }));
  assert.deepEqual(onPhone.sort(), onCli.sort(), 'the phone holds the households the other device holds');
  assert.equal(onPhone.length, 10, 'seven of its own, three of the other device');
});
