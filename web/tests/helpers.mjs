// Shared helpers of the browser tests: an edfi-sandbox process, a static server for dist/,
// and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_EDFI = process.env.SHARED_EDFI || path.resolve(ROOT, '../shared/edfi');
export const SANDBOX = path.join(ROOT, 'target/release/edfi-sandbox');
export const LIGHTBEAM = path.join(ROOT, 'target/release/lightbeam');
export const DIST = process.env.WEB_DIST || path.join(ROOT, 'dist');

export const SANDBOX_DOCS = [
  '--resources-openapi', `${SHARED_EDFI}/openapi/odsapi-7.x_resources_openapi3_ds5.0.json`,
  '--descriptors-openapi', `${SHARED_EDFI}/openapi/odsapi-7.x_descriptors_openapi3_ds5.0.json`,
  '--dependencies', `${SHARED_EDFI}/dependencies/odsapi-7.x_ds-5.2.0_dependencies.json`,
  '--seed-dir', `${SHARED_EDFI}/descriptors/ds-5.2.0_jsonl`,
];

/** Starts a seeded sandbox; resolves to { url, stop }. */
export function startSandbox(extra = []) {
  // every run of the page takes a token: the ODS/API's cap of 15 live tokens is lifted unless a
  // test sets its own
  const limit = extra.includes('--token-limit') ? [] : ['--token-limit', '100000'];
  const child = spawn(SANDBOX, ['serve', ...SANDBOX_DOCS, ...limit, ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (url) => resolve({ url: url.trim(), stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`edfi-sandbox exited with ${code}`)));
  });
}

export function generate(dir, students) {
  execFileSync(SANDBOX, ['generate', '--out', dir, '--students', String(students), '--rng-seed', '1']);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.yaml': 'text/yaml', '.json': 'application/json' };

/** Serves a folder on 127.0.0.1 (another port than the sandbox: every API call is cross-origin). */
export function serveStatic(dir) {
  const server = createServer(async (req, res) => {
    try {
      let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (p.endsWith('/')) p += 'index.html';
      const file = path.join(dir, path.normalize(p));
      if (!file.startsWith(dir)) throw new Error('outside');
      await stat(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404); res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ url: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() });
  }));
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}

export async function stats(url) {
  const r = await fetch(`${url}/_sandbox/stats`);
  return r.json();
}
