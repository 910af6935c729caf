// Browser half of scripts/bench-web.sh: the built app (dist/) in headless Chromium.
// Env: VALIDATE_DIR (data folder), VALIDATE_CFG (config for a sandbox), HASH_FILE (one JSONL
// file), SEND_DIR (data folder), SEND_CFG (config for a sandbox with --latency-ms 20).
// Prints JSON with the figures.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DIST, serveStatic, launch } from '../tests/helpers.mjs';

const env = process.env;
const site = await serveStatic(DIST);
const browser = await launch();
const out = {};

async function files(dir) {
  return (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(dir, f));
}

async function runCommand(cfg, dir, button) {
  const page = await browser.newPage();
  await page.goto(`${site.url}/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.setInputFiles('#config-file', cfg);
  await page.waitForFunction(() => document.querySelector('#base_url')?.value.startsWith('http'));
  await page.setInputFiles('#data-files', await files(dir));
  await page.waitForFunction(() => document.querySelector('#plan caption')?.textContent === 'Files by endpoint, in dependency order', null, { timeout: 300_000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForSelector('#results-heading', { timeout: 900_000 });
  const wall = (Date.now() - t0) / 1000;
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download results' }).click(),
  ]);
  const results = JSON.parse(await readFile(await download.path(), 'utf8'));
  await page.close();
  return { processed: results.total_records_processed, failed: results.total_records_failed, runtime_sec: results.runtime_sec, wall_sec: wall };
}

try {
  if (env.HASH_FILE) {
    const page = await browser.newPage();
    await page.goto(`${site.url}/`);
    await page.waitForSelector('body[data-ready=true]');
    await page.setInputFiles('#data-files', env.HASH_FILE);
    out.read_hash = await page.evaluate(async () => {
      // the page's module, by the hashed name its inline script imports
      const js = [...document.scripts].map((s) => s.textContent.match(/from '(\.\/pkg\/lightbeam_web-[0-9a-f]+\.js)'/)).find(Boolean)[1];
      const m = await import(js);
      const file = document.querySelector('#data-files').files[0];
      await m.bench_read_hash(file); // warm-up
      const t0 = performance.now();
      const lines = await m.bench_read_hash(file);
      return { lines, seconds: (performance.now() - t0) / 1000 };
    });
    await page.close();
  }
  if (env.VALIDATE_DIR) out.validate = await runCommand(env.VALIDATE_CFG, env.VALIDATE_DIR, 'Validate');
  if (env.SEND_DIR) out.send = await runCommand(env.SEND_CFG, env.SEND_DIR, 'Send');
} finally {
  await browser.close();
  site.stop();
}
console.log(JSON.stringify(out));
