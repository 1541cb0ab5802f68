// The phone's store, in IndexedDB: survives a reload, a killed browser and a restarted phone.
//   meta:    key -> value (device id, token, user, scopes, checkpoints, clock, next change seq)
//   records: "collection/id" -> the record as the server last sent it (fields, stamps)
//   outbox:  change seq -> a change not yet acknowledged durably by the server (as the C++
//            client keeps it: id, stamps, field-level assignments), or refused, with the reason
const DB = 'communesync-field';

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export async function openStore() {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore('meta');
    db.createObjectStore('records');
    db.createObjectStore('outbox');
  };
  const db = await request(open);
  // One transaction per call: each write is committed before the promise resolves.
  const tx = (names, mode, body) => new Promise((resolve, reject) => {
    const t = db.transaction(names, mode);
    let result;
    Promise.resolve(body(t)).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  });
  const all = (t, name) => request(t.objectStore(name).getAll());
  return {
    get: (key) => tx(['meta'], 'readonly', (t) => request(t.objectStore('meta').get(key))),
    set: (key, value) => tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(value, key); }),
    records: () => tx(['records'], 'readonly', (t) => all(t, 'records')),
    outbox: () => tx(['outbox'], 'readonly', (t) => all(t, 'outbox')),
    //! Takes the next change seq and keeps the change in the outbox, in one transaction.
    addChange: (make) => tx(['meta', 'outbox'], 'readwrite', async (t) => {
      const seq = ((await request(t.objectStore('meta').get('next_seq'))) || 1);
      const change = make(seq);
      t.objectStore('meta').put(seq + 1, 'next_seq');
      t.objectStore('outbox').put({ change, state: 'waiting' }, seq);
      return change;
    }),
    //! Drops changes the server refused for good (the worker fixed or discarded them).
    dropRefused: (seqs) => tx(['outbox'], 'readwrite', (t) => { for (const s of seqs) t.objectStore('outbox').delete(s); }),
    //! The outbox with each change's sequence number.
    outboxEntries: () => tx(['outbox'], 'readonly', async (t) => {
      const keys = await request(t.objectStore('outbox').getAllKeys());
      const values = await request(t.objectStore('outbox').getAll());
      return keys.map((seq, i) => ({ seq, ...values[i] }));
    }),
    //! The server's answer to a push: accepted changes leave the outbox, refused ones stay with why.
    settle: (results) => tx(['outbox'], 'readwrite', async (t) => {
      const box = t.objectStore('outbox');
      for (const r of results) {
        if (r.outcome === 'accepted') box.delete(r.id.seq);
        else {
          const item = await request(box.get(r.id.seq));
          if (item) box.put({ ...item, state: 'refused', reason: r.reason }, r.id.seq);
        }
      }
    }),
    //! A pulled batch and its checkpoints land together.
    applyBatch: (batch, checkpoints) => tx(['meta', 'records'], 'readwrite', (t) => {
      const records = t.objectStore('records');
      for (const r of batch.records) records.put(r, `${r.collection}/${r.id}`);
      t.objectStore('meta').put(checkpoints, 'checkpoints');
    }),
  };
}
