// The peer's side of tools/bench/vs-pouchdb.sh: the same records through PouchDB (Node, LevelDB)
// replicating to pouchdb-server, measured the way communesync-bench measures communesync:
//   push: N documents already in a local PouchDB replicate up: docs/s, server CPU µs per doc,
//         bytes on the wire per doc (both directions counted by a proxy in this process)
//   pull: a fresh local PouchDB replicates them down: docs/s, wire bytes per doc
//   tiny: T times one document up, then a replication down: p50/p99 ms, bytes and server CPU per sync
//   replay: the server's capacity alone, as `communesync-bench replay` measures it: the documents
//         as a replicator sends them (_bulk_docs with new_edits false, 1,000 a request), encoded
//         before the clock starts, sent over C keep-alive connections at once into a fresh
//         database: docs/s, server CPU µs per doc, the load side's CPU
// Usage: node pouchdb-peer.mjs --remote http://127.0.0.1:PORT --server-pid PID --dataset FILE
//        --work DIR [--tiny T] [--connections C]
// Prints one JSON object.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import PouchDB from 'pouchdb';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const remote = new URL(args.remote);
const serverPid = Number(args['server-pid']);
const tinyRounds = Number(args.tiny ?? 100);
const connections = Number(args.connections ?? 4);

// CPU time (user + system) of the server process so far, in µs.
function serverCpuMicros() {
  const fields = fs.readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / 100;  // USER_HZ is 100 on Linux
}

function serverPeakRssMb() {
  const line = fs.readFileSync(`/proc/${serverPid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

// A TCP proxy in front of the server that counts the bytes each way.
const wire = { up: 0, down: 0, requests: 0 };
const requestLine = /(GET|PUT|POST|DELETE|HEAD) [^ \r\n]+ HTTP\/1\.1\r\n/g;
const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(remote.port), remote.hostname);
  client.on('data', (d) => {
    wire.up += d.length;
    wire.requests += (d.toString('latin1').match(requestLine) ?? []).length;  // HTTP/1.1: one round trip each
    upstream.write(d);
  });
  upstream.on('data', (d) => { wire.down += d.length; client.write(d); });
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const via = `http://127.0.0.1:${proxy.address().port}/bench`;

const records = [];
const lines = readline.createInterface({ input: fs.createReadStream(args.dataset) });
for await (const line of lines) {
  if (line) records.push(JSON.parse(line));
}
const docs = records.map((fields, i) => ({ ...fields, _id: `household:${String(i).padStart(8, '0')}` }));
const n = docs.length;
const work = args.work;
fs.mkdirSync(work, { recursive: true });
const out = { peer: 'pouchdb-server', records: n };

// push
const writer = new PouchDB(path.join(work, 'writer'));
for (let i = 0; i < n; i += 1000) await writer.bulkDocs(docs.slice(i, i + 1000));
let cpu = serverCpuMicros();
let before = { ...wire };
let start = process.hrtime.bigint();
await writer.replicate.to(via, { batch_size: 100 });
let seconds = Number(process.hrtime.bigint() - start) / 1e9;
out.push_records_per_s = n / seconds;
out.push_server_cpu_us_per_record = (serverCpuMicros() - cpu) / n;
out.push_wire_bytes_per_record = (wire.up - before.up) / n;
out.push_wire_bytes_per_record_both_ways = (wire.up - before.up + wire.down - before.down) / n;

// pull
const reader = new PouchDB(path.join(work, 'reader'));
cpu = serverCpuMicros();
before = { ...wire };
start = process.hrtime.bigint();
const pulled = await reader.replicate.from(via, { batch_size: 100 });
seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (pulled.docs_written !== n) throw new Error(`pulled ${pulled.docs_written} of ${n}`);
out.pull_records_per_s = n / seconds;
out.pull_server_cpu_us_per_record = (serverCpuMicros() - cpu) / n;
out.pull_wire_bytes_per_record = (wire.down - before.down) / n;

// tiny: one document up, then a pull, on a warm keep-alive agent (PouchDB's own)
const ms = [];
cpu = serverCpuMicros();
before = { ...wire };
for (let i = 0; i < tinyRounds; i += 1) {
  const t = process.hrtime.bigint();
  await reader.put({ ...records[i % n], _id: `tiny:${i}` });
  await reader.replicate.to(via);
  await reader.replicate.from(via);
  ms.push(Number(process.hrtime.bigint() - t) / 1e6);
}
ms.sort((a, b) => a - b);
out.tiny_p50_ms = ms[Math.floor(ms.length / 2)];
out.tiny_p99_ms = ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))];
out.tiny_bytes_per_sync = (wire.up - before.up + wire.down - before.down) / tinyRounds;
out.tiny_server_cpu_us_per_sync = (serverCpuMicros() - cpu) / tinyRounds;
before = { ...wire };
await reader.replicate.to(via);
await reader.replicate.from(via);
out.noop_sync_bytes = wire.up - before.up + wire.down - before.down;
out.noop_round_trips = wire.requests - before.requests;
out.peak_rss_mb = serverPeakRssMb();

// replay: pre-encoded _bulk_docs requests from `connections` connections at once
function request(agent, method, target, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: remote.hostname, port: remote.port, method, path: target, agent,
      headers: { 'Content-Type': 'application/json', ...(body ? { 'Content-Length': body.length } : {}) } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode < 300 ? resolve(Buffer.concat(chunks)) :
        reject(new Error(`${method} ${target}: ${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
await request(agent, 'PUT', '/replay');
const bodies = [];
for (let i = 0; i < n; i += 1000) {
  const slice = docs.slice(i, i + 1000).map((d) => ({
    ...d, _id: `replay:${d._id}`, _rev: `1-${crypto.createHash('md5').update(d._id).digest('hex')}`,
    _revisions: { start: 1, ids: [crypto.createHash('md5').update(d._id).digest('hex')] } }));
  bodies.push(Buffer.from(JSON.stringify({ docs: slice, new_edits: false })));
}
cpu = serverCpuMicros();
const loadCpu = process.cpuUsage();
start = process.hrtime.bigint();
let next = 0;
await Promise.all(Array.from({ length: connections }, async () => {
  while (next < bodies.length) await request(agent, 'POST', '/replay/_bulk_docs', bodies[next++]);
}));
seconds = Number(process.hrtime.bigint() - start) / 1e9;
const load = process.cpuUsage(loadCpu);
out.replay_records_per_s = n / seconds;
out.replay_server_cpu_us_per_record = (serverCpuMicros() - cpu) / n;
out.replay_load_cores_used = (load.user + load.system) / 1e6 / seconds;
const info = JSON.parse(await request(agent, 'GET', '/replay'));
if (info.doc_count !== n) throw new Error(`replay: ${info.doc_count} of ${n} documents stored`);
agent.destroy();

await writer.close();
await reader.close();
proxy.close();
console.log(JSON.stringify(out));
process.exit(0);
