// The field app's service worker: the app's own files are kept in a cache so that it opens with
// no network at all. Each visit online revalidates them in the background (the server answers 304
// when nothing changed), so a new release reaches the phone at its next online visit: the page is
// told, and offers to reopen on it. Nothing the worker saved is here: records live in IndexedDB,
// which a new release only ever adds to (store.js upgrades it step by step).
const CACHE = 'communesync-field-app';
const FILES = ['./', 'index.html', 'app.js', 'app.css', 'dom.js', 'inputs.js', 'photo.js', 'store.js', 'sync.js', 'sync_core.js', 'communesync-sync.mjs',
  'communesync-sync.wasm', 'manifest.webmanifest', 'icon.svg', 'settings.json'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin || !url.pathname.startsWith('/app/')) return;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const cached = await cache.match(event.request, { ignoreSearch: true });
    const fresh = fetch(event.request).then(async (response) => {
      if (response.ok) {
        await cache.put(event.request, response.clone());
        // A file of a new release: the open pages offer to reopen on it (nothing stored is touched).
        const before = cached?.headers.get('ETag');
        if (before && before !== response.headers.get('ETag')) {
          for (const client of await self.clients.matchAll()) client.postMessage({ type: 'updated', path: url.pathname });
        }
      }
      return response;
    });
    if (cached) {
      event.waitUntil(fresh.catch(() => {}));
      return cached;
    }
    return fresh;
  }));
});
