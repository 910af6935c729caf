// The hosting guide's configs (deploy/nginx.conf, deploy/apache.conf) with Debian's nginx and
// apache2 (scripts/setup.sh installs them), each serving the built bundle on a free port, run as
// this user: the MIME type of the wasm, the cache headers (index.html revalidated, hashed files a
// year), the frame-ancestors header, and the page starting in Chromium under its CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, cp, readdir, writeFile, chmod, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, DIST, launch } from './helpers.mjs';

let work, site, browser;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

async function waitFor(url) {
  for (let i = 0; i < 100; i++) {
    try { await fetch(url); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`${url} never answered`);
}

/** Starts SERVER with ARGS; resolves when it answers at http://127.0.0.1:PORT/. */
async function start(server, args, port) {
  const child = spawn(server, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`${server} exited with ${c}: ${err}`))));
  await Promise.race([waitFor(`http://127.0.0.1:${port}/`), exited]);
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

const servers = {
  async nginx(port) {
    const conf = path.join(work, 'nginx.conf');
    // worker processes run as the user nginx starts as, or as nobody when that is root
    const user = process.getuid() === 0 ? 'user nobody nogroup;' : '';
    await writeFile(conf, `${user}
pid ${work}/nginx.pid;
error_log stderr;
daemon off;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${work}/nginx-tmp;
  proxy_temp_path ${work}/nginx-tmp;
  fastcgi_temp_path ${work}/nginx-tmp;
  uwsgi_temp_path ${work}/nginx-tmp;
  scgi_temp_path ${work}/nginx-tmp;
  server {
    listen 127.0.0.1:${port};
    root ${site};
    include ${ROOT}/deploy/nginx.conf;
  }
}
`);
    return start('/usr/sbin/nginx', ['-p', work, '-c', conf], port);
  },
  async apache(port) {
    const conf = path.join(work, 'apache.conf');
    const mod = (m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`;
    // Apache refuses to serve as root: it switches to nobody
    const user = process.getuid() === 0 ? 'User nobody\nGroup nogroup' : '';
    await writeFile(conf, `${['mpm_event', 'authz_core', 'mime', 'headers', 'dir'].map(mod).join('\n')}
${user}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${work}/apache.pid
Mutex file:${work}
ErrorLog ${work}/apache-error.log
TypesConfig /etc/mime.types
DocumentRoot ${site}
<Directory ${site}>
  Require all granted
</Directory>
Include ${ROOT}/deploy/apache.conf
`);
    return start('/usr/sbin/apache2', ['-f', conf, '-DFOREGROUND'], port);
  },
};

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'lightbeam-hosting-'));
  site = path.join(work, 'site');
  await cp(DIST, site, { recursive: true });
  // readable by the servers' workers, which may run as nobody
  for (const p of [work, site, path.join(site, 'pkg')]) await chmod(p, 0o755);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const name of Object.keys(servers)) {
  test(`${name}: the guide's config serves the bundle with the right types and cache headers`, async () => {
    const server = await servers[name](await freePort());
    try {
      const pkg = await readdir(path.join(site, 'pkg'));
      const wasm = pkg.find((f) => f.endsWith('.wasm'));
      const js = pkg.find((f) => f.endsWith('.js'));
      const css = (await readdir(site)).find((f) => f.startsWith('style-'));
      for (const page of ['/', '/index.html']) {
        const r = await fetch(server.url + page);
        assert.equal(r.status, 200, page);
        assert.match(r.headers.get('content-type'), /^text\/html/, page);
        assert.equal(r.headers.get('cache-control'), 'no-cache', page);
        assert.equal(r.headers.get('content-security-policy'), "frame-ancestors 'none'", page);
        // revalidated: unchanged, it is a 304
        const again = await fetch(server.url + page, { headers: { 'If-None-Match': r.headers.get('etag') ?? '', 'If-Modified-Since': r.headers.get('last-modified') } });
        assert.equal(again.status, 304, `${page} revalidated`);
      }
      for (const [file, type] of [[`pkg/${wasm}`, 'application/wasm'], [`pkg/${js}`, /javascript/], [css, 'text/css']]) {
        const r = await fetch(`${server.url}/${file}`);
        assert.equal(r.status, 200, file);
        assert.match(r.headers.get('content-type'), type instanceof RegExp ? type : new RegExp(`^${type}`), file);
        assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', file);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff', file);
      }
      const page = await browser.newPage();
      const refused = [];
      page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
      await page.goto(`${server.url}/`);
      await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
      assert.deepEqual(refused, []);
      await page.close();
    } finally {
      server.stop();
    }
  });
}
