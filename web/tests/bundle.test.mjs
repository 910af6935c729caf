// The bundle's names follow its content (scripts/web-bundle.sh): the same build gives the same
// names, a changed wasm renames the wasm and the JS that loads it, and the renamed bundle starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, cp, readdir, readFile, appendFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, serveStatic, launch } from './helpers.mjs';

const PKG = path.join(ROOT, 'target/web-pkg');

async function bundle(pkg, out) {
  execFileSync('bash', [path.join(ROOT, 'scripts/web-bundle.sh'), pkg, out], { cwd: ROOT, stdio: 'pipe' });
  const files = [...(await readdir(out)), ...(await readdir(path.join(out, 'pkg'))).map((f) => `pkg/${f}`)];
  return files.filter((f) => f !== 'pkg').sort();
}

test('a changed wasm gets new names for the wasm and the JS; the page still starts', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'lightbeam-bundle-'));
  const first = await bundle(PKG, path.join(work, 'a'));
  assert.deepEqual(await bundle(PKG, path.join(work, 'b')), first, 'the same build, the same names');
  // a changed build: a custom section appended to the wasm (id 0, size, name "changed", one byte)
  const pkg2 = path.join(work, 'pkg2');
  await cp(PKG, pkg2, { recursive: true });
  await appendFile(path.join(pkg2, 'lightbeam_web_bg.wasm'), Buffer.from([0, 9, 7, ...Buffer.from('changed'), 1]));
  const second = await bundle(pkg2, path.join(work, 'c'));
  const kind = (names, re) => names.find((n) => re.test(n));
  for (const re of [/^pkg\/lightbeam_web_bg-.*\.wasm$/, /^pkg\/lightbeam_web-.*\.js$/]) {
    assert.notEqual(kind(second, re), kind(first, re), `${re} renamed`);
  }
  assert.equal(kind(second, /^style-/), kind(first, /^style-/), 'the unchanged stylesheet keeps its name');
  assert.equal(second.length, 4, second.join(', '));
  const html = await readFile(path.join(work, 'c', 'index.html'), 'utf8');
  assert.ok(html.includes(kind(second, /\.js$/)), 'index.html names the new JS');
  const site = await serveStatic(path.join(work, 'c'));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const wasm = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname); });
    await page.goto(`${site.url}/`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
    assert.deepEqual(wasm, [`/${kind(second, /\.wasm$/)}`], 'the new JS loads the new wasm');
  } finally {
    await browser.close();
    site.stop();
    await rm(work, { recursive: true, force: true });
  }
});
