// One sync over the server's WebSocket, with the same protocol and frames as the C++ client
// (communesync.v1, encoded by the WebAssembly core): hello, push the outbox oldest first, pull until
// caught up (unless nothing is new but the phone's own records, which it already holds), then send
// the photos the server lacks in pieces. Nothing leaves the outbox before the server says it is
// durable; a cut at any moment leaves the store as it was, and the next sync
// resends (the server knows each change by its id, and a photo resumes at the bytes it holds).
const PIECE_BYTES = 32 * 1024;  // a photo's piece: a cut on 2G wastes at most this much

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
  const send = (frameOf) => new Promise((resolve, reject) => {
    if (failed) return reject(failed);
    const id = nextId++;
    waiting.set(id, resolve);
    ws.send(frameOf(id));
    closed.then(() => reject(failed || new Error('mất kết nối / the connection was cut')));
  });
  const ask = (message) => send((id) => core.encode({ ...message, request_id: id }));
  const expect = (answer, type) => {
    if (answer.type !== type) throw new Error(answer.message || `${type}: ${answer.error?.message || answer.type}`);
    return answer;
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('không kết nối được máy chủ / cannot reach the server'));
  });
  try {
    const sentAt = Date.now();
    const welcome = expect(await ask({ type: 'hello', device, client_version: 'communesync-field-app/1', device_time_ms: sentAt }), 'welcome');
    // The clock correction of the C++ client: stamps use the server's time as the device saw it.
    await store.set('clock_offset_ms', Math.round(welcome.server_time_ms - (sentAt + Date.now()) / 2));
    await store.set('scopes', welcome.scopes);
    await store.set('user', welcome.user);
    await checkIncarnation(core, store, device, welcome);

    // Records first: the outbox in order, restore resends in pushes of their own.
    const outbox = (await store.outboxEntries()).filter((item) => item.state === 'waiting');
    // Every change before the oldest waiting one has its result here: the server may forget theirs.
    const acknowledgedBelow = outbox.length ? outbox[0].seq : 0;
    // What is latest in each unit the phone reads: the welcome's word, then each push's answer's.
    const latest = { ...welcome.latest };
    const learn = (told) => {
      for (const [scope, seq] of Object.entries(told || {})) latest[scope] = Math.max(latest[scope] || 0, seq);
    };
    let awaiting = 0;  // accepted changes whose record only a pull brings (not exact)
    let sent = 0;
    for (let i = 0; i < outbox.length;) {
      const restore = !!outbox[i].restore;
      let end = i;
      while (end < outbox.length && end - i < 100 && !!outbox[end].restore === restore) ++end;
      const result = expect(await ask({ type: 'push', restore, acknowledged_below: acknowledgedBelow, changes: outbox.slice(i, end).map((item) => item.change) }), 'push_result');
      // An exact result lays the record the server made, so the pull need not bring it back.
      await store.settle(result.results, (change, r, held) => {
        const made = core.exactRecord(change, r.receive_time_ms, held);
        if (made.error) throw new Error(made.error.message);
        return made.record;
      });
      learn(result.latest);
      awaiting += result.results.filter((r) => r.outcome === 'accepted' && !r.exact).length;
      sent += result.results.length;
      i = end;
      onProgress({ sent, of: outbox.length });
    }
    let received = 0;
    let resynced = 0;
    let removed = 0;
    // Nothing to fetch when every acceptance was exact (its record is here), no unit is pulled
    // afresh and every checkpoint reaches what the server says is latest: the sync is the push
    // alone, one round trip less on a 2G link (docs/protocol.md 5.4).
    const held = (await store.get('checkpoints')) || {};
    const behind = Object.entries(latest).some(([scope, seq]) => (held[scope] || 0) < seq);
    const resyncing = ((await store.get('resyncing')) || []).length > 0;
    for (let pull = awaiting > 0 || resyncing || behind; pull;) {
      const checkpoints = (await store.get('checkpoints')) || {};
      // The records of our own exact results are here: the server steps over them (not while a unit
      // is pulled afresh, when every record must come again).
      const stepsOverOwn = !((await store.get('resyncing')) || []).length;
      const batch = expect(await ask({ type: 'pull', checkpoints, max_bytes: 256 * 1024, steps_over_own: stepsOverOwn }), 'pull_batch');
      // A unit to resync comes again from 0; what the server no longer has leaves with the last batch.
      const applied = await store.applyBatch(batch, { ...checkpoints, ...batch.checkpoints });
      resynced += applied.resynced;
      removed += applied.removed;
      received += batch.records.length;
      onProgress({ sent, of: outbox.length, received });
      pull = batch.more;
    }
    // Photos after, in pieces from what the server durably holds.
    const photos = await sendFiles(store, core, send, ask, expect, Math.min(PIECE_BYTES, welcome.limits.max_piece_bytes || PIECE_BYTES),
      (p) => onProgress({ sent, of: outbox.length, received, ...p }));
    await store.set('last_sync_ms', Date.now());
    return { sent, received, photos, resynced, removed };
  } finally {
    ws.close();
  }
}

// The incarnation rule: a server whose store is not the one this phone synced with (wiped, or
// restored from an older backup: a checkpoint beyond its latest) gets every record back.
async function checkIncarnation(core, store, device, welcome) {
  const known = await store.get('incarnation');
  const checkpoints = (await store.get('checkpoints')) || {};
  const behind = Object.entries(checkpoints).some(([scope, seq]) => seq > (welcome.latest[scope] || 0));
  if (!known) {
    await store.set('incarnation', welcome.incarnation);
    if (!behind) return;
  } else if (known === welcome.incarnation && !behind) {
    return;
  }
  await store.restart(welcome.incarnation, (record, nextSeq) => {
    const made = core.restoreChanges(record);
    if (made.error) throw new Error(made.error.message);
    return made.changes.map((change) => ({ ...change, id: { device, seq: nextSeq() } }));
  });
}

async function sendFiles(store, core, send, ask, expect, pieceBytes, onProgress) {
  const files = await store.unsentFiles();
  if (!files.length) return 0;
  const states = new Map();
  for (let i = 0; i < files.length; i += 100) {
    const answer = expect(await ask({ type: 'file_query', hashes: files.slice(i, i + 100).map((f) => f.hash) }), 'file_states');
    for (const s of answer.files) states.set(s.hash, s);
  }
  let done = 0;
  for (const file of files) {
    const bytes = new Uint8Array(file.bytes);
    let have = states.get(file.hash)?.complete ? bytes.length : (states.get(file.hash)?.have || 0);
    let complete = !!states.get(file.hash)?.complete;
    let restarted = false;
    while (!complete) {
      const piece = bytes.subarray(have, Math.min(bytes.length, have + pieceBytes));
      const ack = expect(await send((id) => core.encodeFilePut({ request_id: id, hash: file.hash, size: bytes.length, offset: have }, piece)), 'file_ack');
      if (ack.code !== 'ok') {
        // The server's check of the whole file failed: send it again from the start, once.
        if (ack.code === 'invalid_argument' && ack.have === 0 && !restarted) { restarted = true; have = 0; continue; }
        throw new Error(`${bytesText(bytes.length)}: ${ack.reason}`);
      }
      have = ack.have;
      complete = ack.complete;
      onProgress({ photo: done + 1, photos: files.length, bytes: have, of_bytes: bytes.length });
    }
    await store.markFileSent(file.hash);
    ++done;
  }
  return done;
}

const bytesText = (n) => `ảnh / photo ${Math.round(n / 1024)} KB`;
