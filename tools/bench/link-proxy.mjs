// A poor link in front of a server, for tools/bench/village-2g.sh: every byte is held back `delay`
// ms in each direction (a round trip of twice that), every connection is cut every `cut` seconds,
// and the bytes each way are counted. The bandwidth limit itself is the kernel's (tc tbf on the
// network namespace's link); this adds what tbf cannot: latency and cuts (the kernel here has no netem).
// Usage: node link-proxy.mjs --listen HOST:PORT --to HOST:PORT --delay MS --cut SECONDS --stats FILE
// Writes {"up":BYTES,"down":BYTES,"cuts":N,"connections":N} to FILE every second and on SIGTERM.
import fs from 'node:fs';
import net from 'node:net';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const [listenHost, listenPort] = args.listen.split(':');
const [toHost, toPort] = args.to.split(':');
const delay = Number(args.delay ?? 250);
const cutEvery = Number(args.cut ?? 120) * 1000;
const stats = { up: 0, down: 0, cuts: 0, connections: 0 };
const open = new Set();

function later(fn) {
  if (delay > 0) setTimeout(fn, delay); else fn();
}

net.createServer((device) => {
  stats.connections += 1;
  const server = net.connect(Number(toPort), toHost);
  const pair = { device, server };
  open.add(pair);
  device.on('data', (d) => { stats.up += d.length; later(() => server.write(d)); });
  server.on('data', (d) => { stats.down += d.length; later(() => device.write(d)); });
  const close = () => { open.delete(pair); device.destroy(); server.destroy(); };
  device.on('close', () => later(close));
  server.on('close', () => later(close));
  device.on('error', close);
  server.on('error', close);
}).listen(Number(listenPort), listenHost);

// The link drops: every connection open at that moment is cut, as when the phone loses signal.
setInterval(() => {
  if (open.size === 0) return;
  stats.cuts += 1;
  for (const { device, server } of open) { device.destroy(); server.destroy(); }
  open.clear();
}, cutEvery);

const save = () => fs.writeFileSync(args.stats, JSON.stringify(stats));
save();
setInterval(save, 1000);
process.on('SIGTERM', () => { save(); process.exit(0); });
