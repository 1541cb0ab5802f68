// The field app and the province: a reviewer asks for edits and the phone shows the comment on the
// record; the worker's fix reopens the review. The app and a CLI device edit the same field offline;
// both sync; the server records the conflict the dashboard lists; a reconciler settles it; the app
// shows the decision and the chosen value.
//
//   node fieldapp_review.e2e.mjs --build <build> --artifacts <dir>
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { api, fieldAppTest, logIn, shot, syncApp } from './phone.mjs';

const t = await fieldAppTest('field app review e2e');
const { build, artifacts, work, step } = t;
const cli = (...args) =>
  execFileSync(path.join(build, 'tools/communesync'), ['--home', path.join(work, 'cli'), ...args], { encoding: 'utf8', timeout: 60_000 }).trim();

await t.run(async () => {
  const { base, admin } = await t.startServer('data');
  assert.equal((await api(base, admin, 'POST', '/admin/users', { name: 'an', password: 'mat-khau-cua-an', grants: ['field:MAU-X01'] })).status, 201);
  const binh = await api(base, admin, 'POST', '/admin/users', { name: 'binh', grants: ['field:MAU-X01'] });
  assert.equal(binh.status, 201);

  step('the worker records a household and syncs; a CLI device of the commune receives it');
  const context = await t.openPhone('phone');
  const page = context.pages()[0] || await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  await page.goto(`${base}/app/`);
  await logIn(page, 'an', 'mat-khau-cua-an');
  await page.click('li[data-form=household_survey]');
  await page.click('#new-record');
  await page.getByLabel('Họ tên chủ hộ').fill('Lò Thị Mai');
  await page.getByLabel('Thôn', { exact: false }).first().fill('Thôn 4');
  await page.getByLabel('Số nhân khẩu').fill('4');
  await page.getByLabel('Tình trạng nghèo').selectOption('khong_ngheo');
  await page.getByLabel('Nhà tạm, dột nát?').selectOption('false');
  await page.getByLabel('Ngày khảo sát').fill('2026-12-01');
  await page.click('#save');
  const id = await page.getAttribute('li[data-record]:has-text("Lò Thị Mai")', 'data-record');
  await syncApp(page);
  cli('login', '--server', base.replace('http', 'ws'), '--token', binh.body.token);
  cli('sync');
  assert.match(cli('get', 'household_survey', id), /Lò Thị Mai/);

  step('a reviewer asks for edits: the phone shows the comment on the record');
  const comment = 'Số nhân khẩu chưa khớp sổ hộ khẩu, đề nghị hỏi lại hộ';
  const asked = await api(base, admin, 'POST', `/api/reviews/household_survey/${id}`, { state: 'needs_edits', comment });
  assert.equal(asked.status, 200, JSON.stringify(asked.body));
  await syncApp(page);
  await page.click('li[data-form=household_survey]');
  await page.waitForSelector(`li[data-record="${id}"] [data-review=needs_edits]`);
  assert.match(await page.textContent(`li[data-record="${id}"]`), new RegExp(comment));
  await page.click(`li[data-record="${id}"]`);
  assert.match(await page.textContent('[data-review=needs_edits]'), new RegExp(comment));
  await shot(page, artifacts, 'review');

  step('offline, the worker fixes the size; the CLI device changes the same field; both sync');
  await context.setOffline(true);
  await page.getByLabel('Số nhân khẩu').fill('6');
  await page.click('#save');
  await page.waitForSelector(`li[data-record="${id}"] .pending`);
  cli('put', 'household_survey', '--id', id, 'so_nhan_khau:=7');
  cli('sync');
  await context.setOffline(false);
  await page.click('button:has-text("Quay lại")');
  await syncApp(page);
  cli('sync');
  // The author's fix reopened the review, in the same commit as the edit.
  const received = (await api(base, admin, 'GET', '/api/reviews?state=received')).body.reviews;
  assert.ok(received.some((r) => r.record === id), 'the fix reopened the review');

  step('the dashboard lists the conflict; a reconciler settles it; the app shows the decision');
  const conflicts = (await api(base, admin, 'GET', '/api/conflicts')).body.conflicts.filter((c) => c.record === id);
  assert.equal(conflicts.length, 1, 'one conflict on so_nhan_khau');
  assert.equal(conflicts[0].field, 'so_nhan_khau');
  assert.deepEqual(new Set([conflicts[0].kept.value, conflicts[0].lost.value]), new Set([6, 7]));
  await syncApp(page);
  await page.click('li[data-form=household_survey]');
  await page.waitForSelector(`li[data-record="${id}"] .conflict`);
  const reason = 'Đã hỏi lại hộ: 6 người';
  const settled = await api(base, admin, 'POST', `/api/conflicts/${conflicts[0].id}/resolve`, { value: 6, reason });
  assert.equal(settled.status, 200, JSON.stringify(settled.body));
  await page.click('button:has-text("Quay lại")');
  await syncApp(page);
  await page.click('li[data-form=household_survey]');
  await page.click(`li[data-record="${id}"]`);
  const decided = await page.textContent('[data-conflict=resolved]');
  assert.match(decided, /Tỉnh đã quyết định/);
  assert.match(decided, new RegExp(reason));
  assert.equal(await page.inputValue('#f-so_nhan_khau'), '6', 'the chosen value is on the record');
  await shot(page, artifacts, 'conflict');
  // The status page lists the settled conflict too.
  await page.click('#status-page');
  assert.match(await page.textContent('#conflicts'), /Tỉnh đã quyết định/);
  cli('sync');
  assert.equal(JSON.parse(cli('get', 'household_survey', id)).fields.so_nhan_khau, 6);

  step('the worker deletes the household: it leaves the phone\'s list and the commune\'s devices');
  await page.click('button:has-text("Quay lại")');
  await page.click('li[data-form=household_survey]');
  await page.click(`li[data-record="${id}"]`);
  await page.click('#delete');  // the confirmation is accepted (page.on('dialog'))
  await page.waitForSelector('#new-record');
  assert.equal(await page.locator(`li[data-record="${id}"]`).count(), 0);
  await page.click('button:has-text("Quay lại")');
  await syncApp(page);
  cli('sync');
  const households = cli('export').split('\n').filter((l) => l.startsWith('{"collection":"household_survey"'));
  assert.ok(!households.some((l) => JSON.parse(l).id === id), 'deleted on the CLI device too');
  assert.equal(households.length, 0);
});
