// The dashboard, end to end, in Debian's Chromium driven by playwright-core:
// a real communesync-server (its own port, its own files), two field devices through the real CLI,
// and a provincial reconciler in the browser who logs in, resolves a conflict (both devices receive
// it at their next sync), approves a review, asks for edits (the author's phone shows the comment),
// searches records without accents, downloads Form 2 and reads a figure back from the workbook, and
// administers users and units. Every page is photographed at desktop and phone sizes into the
// artifacts folder.
//
//   node tests/web/dashboard.e2e.mjs --build build/debug [--artifacts DIR]
//
// Talks only to 127.0.0.1; ends only the server it started (by its pid); stops itself after 5 minutes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer as startServer_, stopServer, testPaths } from './server.mjs';

const { root, build, artifacts, chromiumPath } = testPaths();

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error('dashboard e2e: playwright-core is not installed; run tools/scripts/run-tests.sh (it runs npm ci in tests/web)');
  process.exit(1);
}
if (!fs.existsSync(chromiumPath)) {
  console.error(`dashboard e2e: no browser at ${chromiumPath}; run tools/scripts/run-tests.sh (it installs Debian's chromium)`);
  process.exit(1);
}

const guard = setTimeout(async () => {
  console.error('dashboard e2e: over 5 minutes, giving up');
  await cleanup();
  process.exit(1);
}, 300_000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'communesync-web-'));
fs.mkdirSync(artifacts, { recursive: true });
let server = null;
let browser = null;
let page = null;
async function cleanup() {
  await stopServer(server);
  fs.rmSync(work, { recursive: true, force: true });
}

const year = new Date().getFullYear();
const step = (text) => console.log(`-- ${text}`);

// ---- the server and the devices ----

async function startServer() {
  const started = startServer_({ build, root, dataDir: path.join(work, 'data') });
  server = started.server;
  return started.port;
}

async function api(port, token, method, urlPath, body) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${urlPath}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function cli(home, ...args) {
  return execFileSync(path.join(build, 'tools/communesync'), ['--home', home, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}

// ---- the browser ----

const sizes = { desktop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

async function shoot(page, name) {
  for (const [kind, size] of Object.entries(sizes)) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    await page.screenshot({ path: path.join(artifacts, `${name}-${kind}.png`), fullPage: true });
    // Nothing is out of reach: the page is no wider than the screen, and every menu entry is in sight.
    const fit = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      screen: window.innerWidth,
      menu: [...document.querySelectorAll('nav#nav a')].map((a) => [a.textContent, a.getBoundingClientRect().right]),
    }));
    assert.ok(fit.page <= fit.screen, `${name} at ${kind} size is ${fit.page}px wide on a ${fit.screen}px screen`);
    for (const [label, right] of fit.menu) {
      assert.ok(right <= fit.screen, `${name} at ${kind} size: the menu entry "${label}" is off the screen`);
    }
  }
  await page.setViewportSize(sizes.desktop);
}

async function go(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready, { timeout: 20_000 });
}

async function toastSays(page, text) {
  await page.waitForSelector(`#toast .msg:has-text("${text}")`, { timeout: 20_000 });
}

try {
  step('server');
  const port = await startServer();
  const base = `http://127.0.0.1:${port}`;
  const admin = fs.readFileSync(path.join(work, 'data/admin.token'), 'utf8').trim();

  step('users: a reconciler with a password (and admin), two field workers with tokens');
  await api(port, admin, 'POST', '/admin/users', { name: 'lan', password: 'mat-khau-cua-lan', grants: ['reconciler:49', 'admin:49'] });
  const an = (await api(port, admin, 'POST', '/admin/users', { name: 'an', grants: ['field:MAU-X01'] })).token;
  const binh = (await api(port, admin, 'POST', '/admin/users', { name: 'binh', grants: ['field:MAU-X01'] })).token;

  step('two devices: a household, then concurrent edits of its size (a conflict), and a support result');
  const homeA = path.join(work, 'an');
  const homeB = path.join(work, 'binh');
  cli(homeA, 'login', '--server', `ws://127.0.0.1:${port}`, '--token', an);
  cli(homeB, 'login', '--server', `ws://127.0.0.1:${port}`, '--token', binh);
  const id = cli(homeA, 'put', 'household_survey', '--scope', 'MAU-X01', 'chu_ho=Hồ Văn Mừng', 'thon=Thôn 2',
    'so_nhan_khau:=5', 'tinh_trang_ngheo=ngheo', 'nha_tam:=false', 'ly_do_ngheo=Thiếu đất sản xuất', `ngay_khao_sat=${year}-03-02`);
  const id2 = cli(homeA, 'put', 'household_survey', '--scope', 'MAU-X01', 'chu_ho=Vàng Thị Dợ', 'thon=Thôn 3',
    'so_nhan_khau:=16', 'tinh_trang_ngheo=can_ngheo', 'nha_tam:=true', 'ly_do_ngheo=Đông con', `ngay_khao_sat=${year}-03-03`);
  const photo = path.join(work, 'nha.png');  // a 1×1 PNG: the photo of the house
  fs.writeFileSync(photo, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
  cli(homeA, 'attach', 'household_survey', id, 'anh_nha', photo);
  cli(homeA, 'put', 'support_result', '--scope', 'MAU-X01', 'don_vi_ket_nghia=Sở Y tế', `nam:=${year}`,
    'hinh_thuc_ho_tro:=["sinh_ke"]', 'so_ho_ngheo_duoc_giup:=7', 'gia_tri_tien_mat:=35000000', 'so_mo_hinh_xay_dung:=1');
  // Next year's set-up of MAU-X01: a working group, no plan yet; its deadlines are all to come.
  cli(homeA, 'put', 'local_setup', '--scope', 'MAU-X01', `nam:=${year + 1}`, 'to_cong_tac:=true');
  cli(homeA, 'sync');
  cli(homeB, 'sync');
  cli(homeA, 'put', 'household_survey', '--id', id, 'so_nhan_khau:=6');
  cli(homeB, 'put', 'household_survey', '--id', id, 'so_nhan_khau:=8');
  cli(homeA, 'sync');
  cli(homeB, 'sync');
  const conflicts = (await api(port, admin, 'GET', '/api/conflicts')).conflicts;
  assert.equal(conflicts.length, 1, 'one conflict on so_nhan_khau');
  const conflict = conflicts[0];
  const lostValue = conflict.lost.value;
  assert.notEqual(lostValue, conflict.kept.value);

  step('browser');
  browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: sizes.desktop, acceptDownloads: true, locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh' });
  page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  step('log in: a wrong password says why; the right one opens the overview (Vietnamese first)');
  await page.goto(`${base}/`);
  await page.waitForSelector('form.login');
  await shoot(page, 'login');
  await page.fill('input[name=user]', 'lan');
  await page.fill('input[name=password]', 'sai-mat-khau');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('form.login .error-box');
  assert.match(await page.textContent('form.login .error-box'), /Sai tên đăng nhập hoặc mật khẩu/);
  await page.fill('input[name=password]', 'mat-khau-cua-lan');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#overview-table');
  assert.match(await page.textContent('nav#nav'), /Tổng quan/);
  const overviewText = await page.textContent('#overview-table');
  assert.match(overviewText, /Nam Trà My/);
  await shoot(page, 'overview');

  step('overview of next year: the units to chase before each coming deadline ("đôn đốc", VI.1)');
  await go(page, `#/overview?year=${year + 1}`, '#due-list');
  const dueText = await page.textContent('#due-list');
  assert.match(dueText, /Xã mẫu 01/);
  assert.match(dueText, /đề xuất nhu cầu trước 28\/02/, dueText);
  assert.match(dueText, new RegExp(`${year + 1}-02-28`));
  await shoot(page, 'overview-due');

  step('conflicts: the queue, one conflict side by side, a resolution without a reason is refused with a message');
  await go(page, '#/conflicts', '#conflict-list');
  assert.equal(await page.locator('#conflict-list tbody tr').count(), 1);
  await shoot(page, 'conflicts');
  await page.click('#conflict-list tbody tr');
  await page.waitForSelector('.side[data-side=lost]');
  const sides = await page.textContent('.sides');
  assert.ok(sides.includes('an') && sides.includes('binh'), `both authors shown: ${sides}`);
  await shoot(page, 'conflict');
  await page.click('.side[data-side=lost] button[data-take=lost]');
  await page.waitForSelector('#toast .msg.error');
  await page.fill('#reason', 'Đã đếm lại tại nhà');
  await page.click('.side[data-side=lost] button[data-take=lost]');
  await toastSays(page, 'Đã xử lý xung đột');
  await page.waitForSelector('#resolution-value');
  assert.equal((await page.textContent('#resolution-value')).trim(), String(lostValue));

  step('both devices receive the resolution at their next sync');
  cli(homeA, 'sync');
  cli(homeB, 'sync');
  for (const home of [homeA, homeB]) {
    const rec = JSON.parse(cli(home, 'get', 'household_survey', id));
    assert.equal(rec.fields.so_nhan_khau, lostValue, `${home} holds the chosen value`);
  }

  step('reviews: approve the household');
  await go(page, '#/reviews?collection=household_survey', '#review-list');
  await shoot(page, 'reviews');
  await page.click(`#review-list tr[data-id="${id}"] button[data-review=approved]`);
  await toastSays(page, 'Đã lưu kết quả duyệt');
  const approved = (await api(port, admin, 'GET', '/api/reviews?state=approved')).reviews;
  assert.ok(approved.some((r) => r.record === id), 'the approval is stored');

  step('reviews: asking for edits needs a comment; the comment reaches the author\'s phone');
  const row2 = `#review-list tr[data-id="${id2}"]`;
  await page.click(`${row2} button[data-review=needs_edits]`);
  await page.waitForSelector('#toast .msg.error');
  await page.fill(`${row2} input[name=comment]`, '16 nhân khẩu? Kiểm tra lại');
  await page.click(`${row2} button[data-review=needs_edits]`);
  await page.waitForSelector(`${row2} .badge.needs_edits`);
  cli(homeA, 'sync');
  const reviewsOnPhone = JSON.parse(cli(homeA, 'status', '--json')).reviews;
  assert.ok(reviewsOnPhone.some((r) => r.record === id2 && r.state === 'needs_edits' && r.comment === '16 nhân khẩu? Kiểm tra lại'),
    `the phone shows what to fix: ${JSON.stringify(reviewsOnPhone)}`);

  step('records: an accent-free search finds the household; its page shows history');
  await go(page, '#/records?collection=household_survey&q=ho%20van%20mung', '#record-list');
  assert.equal(await page.locator('#record-list tbody tr').count(), 1);
  await shoot(page, 'records');
  await page.click('#record-list tbody tr');
  await page.waitForSelector('dd[data-field=so_nhan_khau]');
  assert.equal((await page.textContent('dd[data-field=so_nhan_khau]')).trim(), String(lostValue));
  await page.waitForSelector('.photos img');
  assert.equal(await page.evaluate(() => document.querySelector('.photos img').naturalWidth), 1, 'the photo loads');
  await shoot(page, 'record');

  step(`reports: Form 2 of ${year} on screen, then as XLSX read back`);
  await go(page, `#/reports?kind=form2&year=${year}&unit=49-NTM`, '[data-section=communes]');
  assert.match(await page.textContent('[data-section=communes]'), /Xã mẫu 01/);
  await shoot(page, 'reports');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-download=xlsx]')]);
  const xlsx = path.join(artifacts, 'form2.xlsx');
  await download.saveAs(xlsx);
  const sheet = execFileSync('/usr/bin/unzip', ['-p', xlsx, 'xl/worksheets/sheet1.xml'], { encoding: 'utf8' });
  assert.ok(sheet.includes('<v>7</v>'), 'the households helped (7) are in the workbook');
  assert.ok(sheet.includes('<v>35000000</v>'), 'the money (35,000,000 đồng) is a number in the workbook');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button[data-download=csv]')]);
  const csvText = fs.readFileSync(await csv.path(), 'utf8');
  await go(page, `#/reports?kind=review&year=${year}`, `h1:has-text("Tổng kết công tác kết nghĩa giai đoạn ${year - 4}–${year}")`);
  assert.match(await page.textContent('[data-section=communes]'), new RegExp(`Cộng ${year - 4}–${year}`));
  assert.ok(csvText.startsWith('\uFEFF'), 'CSV with a BOM for spreadsheet programs');

  step('devices: both phones, their user, app version and last contact');
  await go(page, '#/devices', '#device-list');
  const devices = await page.textContent('#device-list');
  assert.ok(devices.includes('an') && devices.includes('binh'), devices);
  assert.match(devices, /communesync/);
  await shoot(page, 'devices');

  step('admin: add a user, import a unit');
  await go(page, '#/admin', '#user-list');
  await page.fill('#add-user input[name=name]', 'hoa');
  await page.fill('#add-user input[name=grants]', 'field:MAU-X02');
  await page.click('#add-user button[type=submit]');
  await page.waitForSelector('#user-list tr[data-user=hoa]');
  await page.waitForSelector('#add-user-result code');
  await page.fill('#import-units textarea', 'code,parent_code,level,name\nMAU-X09,49-NTM,commune,Xã thử nghiệm\n');
  await page.click('#import-units button[type=submit]');
  await toastSays(page, 'Đã nhập: thêm 1');
  await shoot(page, 'admin');

  step('English on request');
  await page.click('#lang');
  await go(page, '#/conflicts?status=all', '#conflict-list');
  assert.match(await page.textContent('nav#nav'), /Conflicts/);
  await shoot(page, 'conflicts-en');

  assert.deepEqual(pageErrors, [], 'no script errors on any page');
  console.log(`dashboard e2e: passed; screenshots in ${artifacts}`);
} catch (e) {
  console.error(`dashboard e2e: FAILED: ${e.stack || e}`);
  if (page) {
    console.error(`the page at ${page.url()} shows: ${(await page.textContent('main').catch(() => '?')).slice(0, 2000)}`);
    await page.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  await cleanup();
  clearTimeout(guard);
}
