// One sync over the server's WebSocket, with the same protocol and frames as the C++ client
// (communesync.v1, encoded by the WebAssembly core): hello, push the outbox oldest first, pull until
// caught up. Nothing leaves the outbox before the server says it is durable; a cut at any moment
// leaves the store as it was, and the next sync resends (the server knows each change by its id).
export async function syncOnce(core, store, { onProgress = () => {} } = {}) {
  const token = await store.get('token');
  const device = await store.get('device');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
  const ws = new WebSocket(url, ['communesync.v1', `communesync.token.${token}`]);
  ws.binaryType = 'arraybuffer';
  const waiting = new Map();  // request id -> resolve
  let nextId = 1;
  let failed = null;
  const closed = new Promise((resolve) => { ws.onclose = () => resolve(); });
  ws.onmessage = (event) => {
    const message = core.decode(new Uint8Array(event.data));
    const resolve = waiting.get(message.request_id);
    if (resolve) {
      waiting.delete(message.request_id);
      resolve(message);
    }
  };
  const ask = (message) => new Promise((resolve, reject) => {
    if (failed) return reject(failed);
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(core.encode({ ...message, request_id: id }));
    closed.then(() => reject(failed || new Error('mất kết nối / the connection was cut')));
  });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('không kết nối được máy chủ / cannot reach the server'));
  });
  try {
    const welcome = await ask({ type: 'hello', device, client_version: 'communesync-field-app/1', device_time_ms: Date.now() });
    if (welcome.type !== 'welcome') throw new Error(welcome.message || 'the server refused the session');
    // The clock correction of the C++ client: stamps use the server's time as the device saw it.
    await store.set('clock_offset_ms', welcome.server_time_ms - Date.now());
    await store.set('scopes', welcome.scopes);
    await store.set('user', welcome.user);
    const outbox = (await store.outbox()).filter((item) => item.state === 'waiting').map((item) => item.change);
    let sent = 0;
    for (let i = 0; i < outbox.length; i += 100) {
      const result = await ask({ type: 'push', changes: outbox.slice(i, i + 100) });
      if (result.type !== 'push_result') throw new Error(result.message || 'push refused');
      await store.settle(result.results);
      sent += result.results.length;
      onProgress({ sent, of: outbox.length });
    }
    let received = 0;
    for (;;) {
      const checkpoints = (await store.get('checkpoints')) || {};
      const batch = await ask({ type: 'pull', checkpoints, max_bytes: 256 * 1024 });
      if (batch.type !== 'pull_batch') throw new Error(batch.message || 'pull refused');
      await store.applyBatch(batch, { ...checkpoints, ...batch.checkpoints });
      received += batch.records.length;
      onProgress({ sent, of: outbox.length, received });
      if (!batch.more) break;
    }
    await store.set('last_sync_ms', Date.now());
    return { sent, received };
  } finally {
    ws.close();
  }
}
