// A TCP proxy on 127.0.0.1 for the field app's tests, like tests/support/cutting_proxy.hpp: it
// forwards every connection to the server, and cuts a sync connection (one that opens with
// "GET /sync") once `limit` bytes have crossed it in both directions together. The page's own
// requests pass whole, so the app loads and logs in through it; `limit = Infinity` lets all pass.
import net from 'node:net';

export async function startCuttingProxy(targetPort) {
  const sockets = new Set();
  const proxy = { limit: Infinity, cuts: 0, syncs: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let crossed = 0;
    let isSync = null;  // known from the first bytes
    const limit = proxy.limit;
    const cut = () => {
      proxy.cuts += 1;
      client.destroy();
      upstream.destroy();
    };
    const pass = (from, to, chunk) => {
      if (isSync === null) {
        isSync = chunk.subarray(0, 9).toString('latin1') === 'GET /sync';
        if (isSync) proxy.syncs += 1;
      }
      if (!isSync || crossed + chunk.length < limit) {
        crossed += chunk.length;
        to.write(chunk);
        return;
      }
      to.write(chunk.subarray(0, Math.max(0, limit - crossed)), cut);
      crossed = limit;
      from.pause();
    };
    client.on('data', (chunk) => pass(client, upstream, chunk));
    upstream.on('data', (chunk) => pass(upstream, client, chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.on('end', () => b.end());
      a.on('error', () => b.destroy());
      a.on('close', () => { sockets.delete(a); b.destroy(); });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = server.address().port;
  proxy.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(resolve);
  });
  return proxy;
}
