// The field app on a cheap phone: (1) the bytes of its first load, as the phone receives them
// (compressed); (2) the time to open it offline and show the household list, with Chromium's CPU
// slowed 4x, over a commune's worth of households the worker synced (created through the app's own
// code, pushed to a real server and pulled back). Medians of --runs opens.
//
//   node tools/bench/fieldapp-open.mjs --build build/release [--households 1000] [--runs 7] [--json]
// Needs the browser tests' packages (cd tests/web && npm ci) and Debian's chromium.
import { api, fieldAppTest, logIn } from '../../tests/web/phone.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const households = Number(arg('households', 1000));
const runs = Number(arg('runs', 7));
const asJson = process.argv.includes('--json');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t = await fieldAppTest('field app open benchmark', 10);
await t.run(async () => {
  const { base, admin } = await t.startServer('data');
  const made = await api(base, admin, 'POST', '/admin/users', { name: 'an', password: 'mat-khau-cua-an', grants: ['field:MAU-X01'] });
  if (made.status !== 201) throw new Error(JSON.stringify(made.body));

  // The first load: every response of the first visit, bodies as they crossed the wire.
  const context = await t.openPhone('phone');
  const page = context.pages()[0] || await context.newPage();
  const responses = [];
  page.on('requestfinished', (request) => responses.push(request));
  await page.goto(`${base}/app/`);
  await page.waitForSelector('#user');
  await page.evaluate(() => navigator.serviceWorker.ready);
  let firstLoad = 0;
  const files = [];
  for (const r of responses) {
    if (!new URL(r.url()).pathname.startsWith('/app/')) continue;
    const sizes = await r.sizes();
    firstLoad += sizes.responseBodySize + sizes.responseHeadersSize;
    files.push(new URL(r.url()).pathname);
  }

  // A commune's households, made by the app's own code and synced through the real protocol.
  await logIn(page, 'an', 'mat-khau-cua-an');
  await page.evaluate(async (n) => {
    const { openStore } = await import('/app/store.js');
    const { openSyncCore } = await import('/app/sync_core.js');
    const { syncOnce } = await import('/app/sync.js');
    const core = await openSyncCore(async () => (await import('/app/communesync-sync.mjs')).default());
    const store = await openStore();
    const device = await store.get('device');
    const scope = (await store.get('scopes')).find((s) => s !== '_forms');
    for (let i = 0; i < n; ++i) {
      const wall = Date.now() * 1 + i;
      const values = { chu_ho: `Hộ số ${i} Lò Văn Pá`, thon: `Thôn ${i % 12}`, so_nhan_khau: 1 + (i % 9),
        tinh_trang_ngheo: ['ngheo', 'can_ngheo', 'khong_ngheo'][i % 3], nha_tam: i % 5 === 0, ngay_khao_sat: '2026-11-20',
        ly_do_ngheo: 'Thiếu đất sản xuất' };
      const assignments = Object.entries(values).map(([field, value], k) =>
        ({ field, value, stamp: { wall_ms: wall, counter: k, device }, seen: null }));
      const id = wall.toString(16).padStart(12, '0') + i.toString(16).padStart(20, '0');
      await store.addChange((seq) => core.checkChange({ id: { device, seq }, collection: 'household_survey', record: id,
        scope, form_version: 0, capture_time_ms: wall, assignments }).change);
    }
    await syncOnce(core, store);
  }, households);

  // Opening offline with the CPU slowed 4x: from the navigation to the forms, then to the list.
  await context.setOffline(true);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const toForms = [];
  const toList = [];
  for (let i = 0; i < runs; ++i) {
    const start = Date.now();
    await page.reload();
    await page.waitForSelector('li[data-form=household_survey]', { timeout: 60_000 });
    toForms.push(Date.now() - start);
    await page.click('li[data-form=household_survey]');
    await page.waitForFunction((n) => document.querySelectorAll('li[data-record]').length >= n, households, { timeout: 60_000 });
    toList.push(Date.now() - start);
  }
  const result = {
    first_load_bytes: firstLoad, first_load_files: files.length, households, runs, cpu_slowdown: 4,
    open_to_forms_ms_median: median(toForms), open_to_household_list_ms_median: median(toList),
    open_to_household_list_ms: toList,
  };
  if (asJson) console.log(JSON.stringify(result));
  else {
    console.log(`first load: ${firstLoad} bytes on the wire in ${files.length} files (budget 400,000)`);
    console.log(`offline open, CPU 4x slower, ${households} households: forms ${result.open_to_forms_ms_median} ms, ` +
                `household list ${result.open_to_household_list_ms_median} ms (median of ${runs}; all: ${toList.join(' ')})`);
  }
});
