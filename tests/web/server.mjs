// The server for the browser tests: this build's communesync-server on 127.0.0.1 and a free port,
// with the programme's forms, its data in `dataDir`. Resolves once it listens and serves its pages.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

//! Where things are: the repository, the build (--build), the screenshots (--artifacts), Chromium.
export function testPaths() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const build = path.resolve(arg('--build', path.join(root, 'build/debug')));
  const artifacts = path.resolve(arg('--artifacts', path.join(build, 'web-artifacts')));
  return { root, build, artifacts, chromiumPath: process.env.CHROMIUM || '/usr/bin/chromium' };
}

export function startServer({ build, root, dataDir, listen = '127.0.0.1:0', web }) {
  const server = spawn(path.join(build, 'server/communesync-server'),
    ['--data', dataDir, '--listen', listen, '--forms', path.join(root, 'forms'), ...(web ? ['--web', web] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 30_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on \S*127\.0\.0\.1:(\d+)/);
      if (m && out.includes('dashboard at')) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  return { server, port };
}

//! Stops it with SIGTERM (it was started by this test: its pid is ours), waiting at most 10 s.
export async function stopServer(server) {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}
