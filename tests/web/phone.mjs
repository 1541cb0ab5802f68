// The field app's browser tests hold a phone: Debian's Chromium at 360×740 with a profile that
// outlives a closed browser, the service worker on, GPS allowed at a point in Quảng Ngãi; and they
// drive it as a worker would (press Sync until the outbox is empty).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopServer, testPaths } from './server.mjs';

//! A field app test's frame: the paths, a scratch folder, phones and servers it started, a guard that
//! gives up after `minutes`, and at the end every phone closed, every server stopped (by its pid:
//! ours) and the folder removed.
//!   const t = await fieldAppTest('name'); await t.run(async () => { ... t.openPhone('phone') ... });
export async function fieldAppTest(name, minutes = 4) {
  const paths = testPaths();
  const { chromium } = await import('playwright-core');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'communesync-app-'));
  fs.mkdirSync(paths.artifacts, { recursive: true });
  const phones = new Set();
  const servers = new Set();
  const more = [];  // what else the test started (a proxy): closed first
  const cleanup = async () => {
    for (const close of more) await Promise.resolve(close()).catch(() => {});
    for (const phone of phones) await phone.close().catch(() => {});
    for (const server of servers) await stopServer(server);
    fs.rmSync(work, { recursive: true, force: true });
  };
  return {
    ...paths,
    work,
    step: (text) => console.log(`-- ${text}`),
    //! A phone whose profile (its store, its service worker) lives in work/NAME across closes.
    async openPhone(profile) {
      const phone = await openPhone(chromium, paths.chromiumPath, path.join(work, profile));
      phones.add(phone);
      return phone;
    },
    //! This build's server on data folder work/DATA (pages from `web`, else the build's); resolves to
    //! {server, base, admin token}.
    async startServer(data, listen, web) {
      const started = startServer({ build: paths.build, root: paths.root, dataDir: path.join(work, data), listen, web });
      servers.add(started.server);
      const base = `http://127.0.0.1:${await started.port}`;
      return { server: started.server, base, admin: fs.readFileSync(path.join(work, data, 'admin.token'), 'utf8').trim() };
    },
    stopServer: (server) => stopServer(server),
    //! Something else to close at the end, whether the test passed or not.
    onCleanup: (close) => more.push(close),
    async run(body) {
      const guard = setTimeout(async () => {
        console.error(`${name}: over ${minutes} minutes, giving up`);
        await cleanup();
        process.exit(1);
      }, minutes * 60_000);
      try {
        await body();
        console.log(`${name}: passed; screenshots in ${paths.artifacts}`);
      } catch (e) {
        console.error(`${name}: FAILED: ${e.stack || e}`);
        process.exitCode = 1;
      } finally {
        clearTimeout(guard);
        await cleanup();
        // Whatever may still hold the event loop open, the test ends with its verdict.
        setTimeout(() => process.exit(process.exitCode || 0), 10_000).unref();
      }
    },
  };
}

export function openPhone(chromium, chromiumPath, profile) {
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, viewport: { width: 360, height: 740 }, serviceWorkers: 'allow',
    permissions: ['geolocation'], geolocation: { latitude: 15.123456, longitude: 107.654321, accuracy: 8 },
  });
}

//! Logs in on the app's first screen and waits for the forms.
export async function logIn(page, user, password) {
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('li[data-form=household_survey]', { timeout: 30_000 });
}

//! Presses Sync until the status line says the outbox is empty and the sync went through. A first
//! try right as the signal returns may fail; the app retries by itself and the worker may press again.
export async function syncApp(page, tries = 3) {
  const before = await page.getAttribute('#status', 'data-synced-at');
  for (let attempt = 1; ; ++attempt) {
    await page.click('#sync');
    // A sync that went through after the press (the status line keeps the last one's words), and
    // the forms shown after it (the button's work is done: nothing redraws the screen later).
    const done = await page.waitForFunction((previous) => {
      const status = document.getElementById('status');
      return status.dataset.syncedAt !== previous && status.textContent.includes('Waiting: 0') &&
        !document.getElementById('sync').dataset.running;
    }, before ?? undefined, { timeout: 20_000 }).then(() => true, () => false);
    if (done) return;
    assert.ok(attempt < tries, `no sync after ${attempt} tries: ${await page.textContent('#status')}`);
  }
}

//! The records the app holds from the server (IndexedDB), filtered in the page by `field` = `value`.
export function heldRecords(page, field, value) {
  return page.evaluate(([f, v]) => new Promise((resolve, reject) => {
    const open = indexedDB.open('communesync-field');
    open.onsuccess = () => {
      const get = open.result.transaction('records').objectStore('records').getAll();
      get.onsuccess = () => { resolve(get.result.filter((r) => r.fields[f] === v)); open.result.close(); };
      get.onerror = () => reject(get.error);
    };
  }), [field, value]);
}

//! The server's JSON API with a bearer token.
export async function api(base, token, method, url, body) {
  const res = await fetch(`${base}${url}`, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const shot = (page, artifacts, name) => page.screenshot({ path: path.join(artifacts, `app-${name}.png`) });
