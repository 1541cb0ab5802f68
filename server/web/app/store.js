// The phone's store, in IndexedDB: survives a reload, a killed browser and a restarted phone.
//   meta:      key -> value (device id, token, user, scopes, checkpoints, incarnation, clock, next
//              seq, the units being resynchronised)
//   records:   "collection/id" -> the record as the server last sent it (fields, stamps, what each
//              writer saw: the incarnation rule resends it whole); `stale` while its unit resyncs
//   outbox:    change seq -> a change not yet acknowledged durably by the server (as the C++ client
//              keeps it: id, stamps, field-level assignments; `restore` for the incarnation rule's
//              resend), or refused, with the reason
//   files:     SHA-256 hex -> a photo taken on the phone {bytes, type, size, sent}
//   conflicts: key -> a conflict the server found in a unit the worker reads (open, or settled)
const DB = 'communesync-field';
const VERSION = 2;

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export async function openStore() {
  const open = indexedDB.open(DB, VERSION);
  open.onupgradeneeded = (event) => {
    const db = open.result;
    // Each version only adds: a phone that skipped releases upgrades through every step.
    if (event.oldVersion < 1) {
      db.createObjectStore('meta');
      db.createObjectStore('records');
      db.createObjectStore('outbox');
    }
    if (event.oldVersion < 2) {
      db.createObjectStore('files');
      db.createObjectStore('conflicts');
    }
  };
  const db = await request(open);
  // One transaction per call: each write is committed before the promise resolves.
  const tx = (names, mode, body) => new Promise((resolve, reject) => {
    const t = db.transaction(names, mode);
    let result;
    Promise.resolve(body(t)).then((r) => { result = r; }, (err) => { reject(err); try { t.abort(); } catch { /* done */ } });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  });
  const all = (t, name) => request(t.objectStore(name).getAll());
  const entries = async (t, name) => {
    const keys = await request(t.objectStore(name).getAllKeys());
    const values = await request(t.objectStore(name).getAll());
    return keys.map((key, i) => ({ key, value: values[i] }));
  };
  return {
    get: (key) => tx(['meta'], 'readonly', (t) => request(t.objectStore('meta').get(key))),
    set: (key, value) => tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(value, key); }),
    records: () => tx(['records'], 'readonly', (t) => all(t, 'records')),
    outbox: () => tx(['outbox'], 'readonly', (t) => all(t, 'outbox')),
    conflicts: () => tx(['conflicts'], 'readonly', (t) => all(t, 'conflicts')),
    file: (hash) => tx(['files'], 'readonly', (t) => request(t.objectStore('files').get(hash))),
    //! The photos not yet whole on the server, oldest first.
    unsentFiles: () => tx(['files'], 'readonly', async (t) =>
      (await entries(t, 'files')).filter((e) => !e.value.sent).map((e) => ({ hash: e.key, ...e.value }))),
    markFileSent: (hash) => tx(['files'], 'readwrite', async (t) => {
      const f = await request(t.objectStore('files').get(hash));
      if (f) t.objectStore('files').put({ ...f, sent: true }, hash);
    }),
    //! Takes the next change seq and keeps the change in the outbox, with the photos it refers to,
    //! in one transaction: a record never refers to a photo the phone does not hold.
    addChange: (make, files = []) => tx(['meta', 'outbox', 'files'], 'readwrite', async (t) => {
      const seq = ((await request(t.objectStore('meta').get('next_seq'))) || 1);
      const change = make(seq);
      t.objectStore('meta').put(seq + 1, 'next_seq');
      t.objectStore('outbox').put({ change, state: 'waiting' }, seq);
      for (const f of files) t.objectStore('files').put({ bytes: f.bytes, type: f.type, size: f.bytes.byteLength, sent: false }, f.hash);
      return change;
    }),
    //! Drops changes the server refused for good (the worker fixed or discarded them).
    dropRefused: (seqs) => tx(['outbox'], 'readwrite', (t) => { for (const s of seqs) t.objectStore('outbox').delete(s); }),
    //! The outbox with each change's sequence number.
    outboxEntries: () => tx(['outbox'], 'readonly', async (t) =>
      (await entries(t, 'outbox')).map(({ key, value }) => ({ seq: key, ...value }))),
    //! The server's answer to a push: accepted changes leave the outbox, refused ones stay with why.
    //! An exact result (docs/protocol.md 5.2) lays the record the change made: `lay(change, result,
    //! held)` gives it (null: the record held is later already); the unit's checkpoint moves past it
    //! when it got the sequence right after the checkpoint, in a unit the phone reads and does not
    //! resync.
    settle: (results, lay) => tx(['outbox', 'records', 'meta'], 'readwrite', async (t) => {
      const box = t.objectStore('outbox');
      const records = t.objectStore('records');
      const meta = t.objectStore('meta');
      const checkpoints = (await request(meta.get('checkpoints'))) || {};
      const readable = new Set((await request(meta.get('scopes'))) || []);
      const resyncing = new Set((await request(meta.get('resyncing'))) || []);
      let moved = false;
      for (const r of results) {
        const item = await request(box.get(r.id.seq));
        if (r.outcome !== 'accepted') {
          if (item) box.put({ ...item, state: 'refused', reason: r.reason }, r.id.seq);
          continue;
        }
        box.delete(r.id.seq);
        if (!r.exact || !item || !lay) continue;
        const key = `${item.change.collection}/${item.change.record}`;
        const made = lay(item.change, r, (await request(records.get(key))) ?? null);
        if (made) records.put(made, key);
        const scope = item.change.scope;
        if (readable.has(scope) && !resyncing.has(scope) && (checkpoints[scope] || 0) + 1 === r.server_seq) {
          checkpoints[scope] = r.server_seq;
          moved = true;
        }
      }
      if (moved) meta.put(checkpoints, 'checkpoints');
    }),
    //! A pulled batch (records and conflicts) and its checkpoints land together. A unit the server
    //! says to resync (it purged deletions this phone had not seen: docs/protocol.md 5.4) is pulled
    //! from 0: its records here are marked stale, each one sent again loses the mark, and the batch
    //! that ends the pull removes those still marked, unless a change of them waits to be sent.
    //! Resolves to {resynced, removed}.
    applyBatch: (batch, checkpoints) => tx(['meta', 'records', 'conflicts', 'outbox'], 'readwrite', async (t) => {
      const meta = t.objectStore('meta');
      const records = t.objectStore('records');
      for (const r of batch.records) records.put(r, `${r.collection}/${r.id}`);
      for (const c of batch.conflicts || []) t.objectStore('conflicts').put(c, c.key);
      const resyncing = new Set((await request(meta.get('resyncing'))) || []);
      const started = new Set(batch.resync || []);
      for (const scope of started) {
        delete checkpoints[scope];
        resyncing.add(scope);
      }
      const ending = !batch.more && resyncing.size > 0;
      let removed = 0;
      if (started.size || ending) {
        const waiting = new Set((await all(t, 'outbox')).filter((e) => e.state === 'waiting')
          .map((e) => `${e.change.collection}/${e.change.record}`));
        for (const { key, value } of await entries(t, 'records')) {
          if (started.has(value.scope)) {
            records.put({ ...value, stale: true }, key);
          } else if (ending && value.stale && resyncing.has(value.scope) && !waiting.has(key)) {
            records.delete(key);
            ++removed;
          }
        }
        if (ending) resyncing.clear();
      }
      meta.put([...resyncing], 'resyncing');
      meta.put(checkpoints, 'checkpoints');
      return { resynced: started.size, removed };
    }),
    //! The incarnation rule (docs/protocol.md): the server went back in time. In one transaction:
    //! forget the checkpoints, queue every record held to be pushed again (`restoreChanges(record,
    //! seq)` makes its changes), and take the new incarnation. A cut afterwards resends from the outbox.
    restart: (incarnation, restoreChanges) => tx(['meta', 'records', 'outbox'], 'readwrite', async (t) => {
      const meta = t.objectStore('meta');
      let seq = ((await request(meta.get('next_seq'))) || 1);
      let queued = 0;
      for (const record of await all(t, 'records')) {
        for (const change of restoreChanges(record, () => seq++)) {
          t.objectStore('outbox').put({ change, state: 'waiting', restore: true }, change.id.seq);
          ++queued;
        }
      }
      meta.put(seq, 'next_seq');
      meta.put({}, 'checkpoints');
      meta.put(incarnation, 'incarnation');
      return queued;
    }),
  };
}
