// End to end: the built app (dist/) in Debian's Chromium against an edfi-sandbox on another
// port (so every call is cross-origin): load a config, drop generated files, send, check the
// sandbox, send again (all skipped), failures with their lines, count, fetch, delete.
// Screenshots go to web/test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, readdir, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, DIST, SHARED_EDFI, startSandbox, generate, serveStatic, launch, stats } from './helpers.mjs';

const OUT = path.join(ROOT, 'web/test-output');
const SECRET = 'testsecret';
let sandbox, site, browser, page, work, dataFiles, expected;
// what the page's Content-Security-Policy (index.html, scripts/web-bundle.sh) refused, all tests long
const refused = [];

before(async () => {
  await mkdir(OUT, { recursive: true });
  work = await mkdtemp(path.join(os.tmpdir(), 'lightbeam-web-e2e-'));
  generate(path.join(work, 'data'), 20);
  dataFiles = (await readdir(path.join(work, 'data'))).map((f) => path.join(work, 'data', f));
  expected = {};
  for (const f of dataFiles) {
    const n = (await readFile(f, 'utf8')).split('\n').filter((l) => l.trim()).length;
    expected[path.basename(f, '.jsonl')] = n;
  }
  // one file that maps to no endpoint: listed, not ignored silently
  await writeFile(path.join(work, 'studnets.jsonl'), '{"x": 1}\n');
  // every token the sandbox issues is logged, so the page's storage can be searched for them
  sandbox = await startSandbox(['--log-tokens', path.join(work, 'tokens.txt')]);
  site = await serveStatic(DIST);
  await writeFile(path.join(work, 'lightbeam.yaml'), [
    'edfi_api:',
    `  base_url: ${sandbox.url}`,
    '  mode: shared_instance',
    '  client_id: testkey',
    `  client_secret: ${SECRET}`,
    'connection:',
    '  pool_size: 6',
    '  num_retries: 2',
    '',
  ].join('\n'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
  await page.goto(`${site.url}/`);
  await page.waitForSelector('body[data-ready=true]');
});

after(async () => {
  await browser?.close();
  sandbox?.stop();
  site?.stop();
});

const shot = (name) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
const summary = () => page.locator('.summary').textContent();

async function waitForRunEnd() {
  await page.waitForSelector('#results-heading', { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('.status')?.textContent.includes('finished'));
}

test('the form shows the CLI validation messages', async () => {
  await page.getByLabel('Base URL').fill('localhost:8001');
  await page.getByRole('button', { name: 'Check connection' }).click();
  const err = await page.locator('#config-error').textContent();
  assert.match(err, /config error: edfi_api\.base_url: must start with http:\/\/ or https:\/\//);
  assert.equal(await page.getByLabel('Base URL').getAttribute('aria-invalid'), 'true');
  // a bad config file: the message names the file and the line
  const bad = path.join(work, 'bad.yaml');
  await writeFile(bad, 'edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: eight\n');
  await page.setInputFiles('#config-file', bad);
  await page.waitForFunction(() => document.querySelector('#config-error')?.textContent.includes('line 4'));
  assert.match(await page.locator('#config-error').textContent(), /bad\.yaml: config error at line 4: connection\.pool_size/);
});

test('load a config, drop files: endpoints in dependency order with line counts, unknown files listed', async () => {
  await page.setInputFiles('#config-file', path.join(work, 'lightbeam.yaml'));
  await page.waitForFunction((url) => document.querySelector('#base_url')?.value === url, sandbox.url);
  assert.equal(await page.getByLabel('Client secret', { exact: true }).inputValue(), SECRET);
  assert.equal(await page.getByLabel('Client secret', { exact: true }).getAttribute('type'), 'password');
  await page.setInputFiles('#data-files', [...dataFiles, path.join(work, 'studnets.jsonl')]);
  await page.waitForFunction(() => document.querySelector('#plan caption')?.textContent === 'Files by endpoint, in dependency order');
  const rows = await page.locator('#plan tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, dataFiles.length);
  const order = rows.map((r) => r[1]);
  assert.ok(order.indexOf('schools') < order.indexOf('students') || order.indexOf('students') >= 0);
  assert.ok(order.indexOf('studentSchoolAssociations') > order.indexOf('students'));
  assert.ok(order.indexOf('grades') > order.indexOf('studentSectionAssociations'));
  for (const r of rows) assert.equal(Number(r[3].replace(/,/g, '')), expected[r[1]], r.join(' | '));
  assert.match(await page.locator('.unknown').textContent(), /studnets\.jsonl: "studnets" is not an endpoint/);
  await shot('1-plan');
});

test('validate: the generated files are valid', async () => {
  await page.getByRole('button', { name: 'Validate', exact: true }).click();
  await waitForRunEnd();
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  // on a mismatch, say what the page said (its error and its log) besides the summary
  const said = await page.evaluate(() => [...document.querySelectorAll('[role=alert], ol.log li')].map((e) => e.textContent).join('\n'));
  assert.match(await summary(), new RegExp(`${total.toLocaleString('en-US')} payloads: ${total.toLocaleString('en-US')} done, 0 skipped, 0 failed`), said);
  assert.equal((await stats(sandbox.url)).records['ed-fi/students'], 0, 'validate sends nothing');
});

test('send: everything reaches the sandbox; results downloadable in the CLI format', async () => {
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitForRunEnd();
  await shot('2-sent');
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  // on a mismatch, say what the page said (its error and its log) besides the summary
  const said = await page.evaluate(() => [...document.querySelectorAll('[role=alert], ol.log li')].map((e) => e.textContent).join('\n'));
  assert.match(await summary(), new RegExp(`${total.toLocaleString('en-US')} payloads: ${total.toLocaleString('en-US')} done, 0 skipped, 0 failed`), said);
  const s = await stats(sandbox.url);
  for (const [endpoint, n] of Object.entries(expected)) assert.equal(s.records[`ed-fi/${endpoint}`], n, endpoint);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download results' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'results.json');
  const results = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(results.command, 'send');
  assert.equal(results.total_records_processed, total);
  assert.equal(results.total_records_failed, 0);
  assert.equal(results.resources.students.records_processed, 20);
  assert.deepEqual(results.resources.students.successes, [{ status_code: 201, count: 20 }]);
});

test('send again: everything skipped (state in IndexedDB)', async () => {
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitForRunEnd();
  assert.match(await summary(), /0 done, [\d,]+ skipped, 0 failed.*all payloads skipped/);
  await page.getByRole('button', { name: 'Show saved state' }).click();
  await page.waitForSelector('text=Sent payloads remembered');
  const stored = await page.locator('table.plan', { hasText: 'Sent payloads remembered' }).textContent();
  assert.match(stored, /students20/);
  await shot('3-skipped-and-state');
});

test('failures are grouped by message with lines that open', async () => {
  const bad = path.join(work, 'bad', 'students.jsonl');
  await mkdir(path.dirname(bad), { recursive: true });
  await writeFile(bad, [
    '{"studentUniqueId":"900001","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}',
    '',
    '{"studentUniqueId":"900002","birthDate":"not a date","firstName":"C","lastSurname":"D"}',
    '{"studentUniqueId":"900003","firstName":"E"}',
    '{"studentUniqueId":"900004","firstName":"F"}',
  ].join('\n') + '\n');
  await page.setInputFiles('#data-files', [bad]);
  await page.waitForFunction(() => document.querySelector('#plan caption')?.textContent === 'Files by endpoint, in dependency order');
  // validate+send: validation fails, so nothing is sent
  await page.getByRole('button', { name: 'Validate and send' }).click();
  await waitForRunEnd();
  assert.match(await page.locator('#results-heading + .error').textContent(), /validation failed for [23] of 4 payloads; nothing was sent/);
  assert.equal((await stats(sandbox.url)).records['ed-fi/students'], 20);
  await shot('4a-validate-failures');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await waitForRunEnd();
  assert.match(await summary(), /4 payloads: 1 done, 0 skipped, 3 failed/);
  const failures = await page.locator('.failures').textContent();
  assert.match(failures, /×2/);
  await page.getByRole('button', { name: 'Open line 4 of students.jsonl' }).first().click();
  await page.waitForSelector('#line-heading');
  assert.equal(await page.locator('#line-heading').textContent(), 'students.jsonl line 4');
  assert.match(await page.locator('.lineview pre').textContent(), /"studentUniqueId": "900003"/);
  await shot('4-failures');
  await page.getByRole('button', { name: 'Close' }).click();
});

test('a folder dropped on the page', async () => {
  // a synthetic drop carries files (no entries): same path as a file input
  const names = ['schools', 'students'];
  const contents = await Promise.all(names.map((n) => readFile(path.join(work, 'data', `${n}.jsonl`), 'utf8')));
  await page.evaluate(([names, contents]) => {
    const dt = new DataTransfer();
    names.forEach((n, i) => dt.items.add(new File([contents[i]], `${n}.jsonl`)));
    document.querySelector('.dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [names, contents]);
  await page.waitForFunction(() => document.querySelectorAll('#plan tbody tr').length === 2
    && document.querySelector('#plan caption')?.textContent === 'Files by endpoint, in dependency order');
  const rows = await page.locator('#plan tbody tr').evaluateAll((trs) => trs.map((tr) => tr.cells[1].textContent));
  assert.deepEqual(rows.sort(), ['schools', 'students']);
});

test('count and fetch', async () => {
  await page.getByRole('button', { name: 'Count', exact: true }).click();
  await waitForRunEnd();
  const counts = await page.locator('table.plan', { hasText: 'Records by endpoint' }).textContent();
  assert.match(counts, /21students/); // 20 generated + 1 from the failures test
  assert.match(counts, /590grades/);
  await shot('5-count');
  await page.getByLabel('Selector').fill('students');
  await page.getByRole('button', { name: 'Fetch', exact: true }).click();
  await waitForRunEnd();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download students.jsonl' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'students.jsonl');
  const lines = (await readFile(await download.path(), 'utf8')).split('\n').filter(Boolean);
  assert.equal(lines.length, 21);
  assert.ok(JSON.parse(lines[0]).studentUniqueId);
});

test('delete asks for a typed confirmation, then deletes', async () => {
  await page.getByLabel('Selector').fill('');
  await page.setInputFiles('#data-files', dataFiles.filter((f) => /\/(grades|studentSectionAssociations)\.jsonl$/.test(f)));
  await page.waitForFunction(() => document.querySelectorAll('#plan tbody tr').length === 2
    && document.querySelector('#plan caption')?.textContent === 'Files by endpoint, in dependency order');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('button', { name: 'Confirm delete' });
  assert.equal(await confirm.isDisabled(), true);
  await page.getByLabel('Type yes to confirm').fill('yes');
  await shot('6-delete-confirm');
  await confirm.click();
  await waitForRunEnd();
  assert.match(await summary(), /790 payloads: 790 done, 0 skipped, 0 failed/);
  const s = await stats(sandbox.url);
  assert.equal(s.records['ed-fi/grades'], 0);
  assert.equal(s.records['ed-fi/studentSectionAssociations'], 0);
  assert.equal(s.records['ed-fi/students'], 21);
});

test('the secret and the tokens are not kept unless asked; not in IndexedDB', async () => {
  const stored = await page.evaluate(() => localStorage.getItem('lightbeam.form'));
  assert.ok(stored && !stored.includes('testsecret'), 'secret in localStorage without opt-in');
  const idb = await page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    let text = '';
    for (const { name } of dbs) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = rej; });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
        text += JSON.stringify(all.map((v) => (typeof v === 'string' ? v : v.data ? new TextDecoder().decode(v.data).slice(0, 10000) : v)));
      }
      db.close();
    }
    return { names: dbs.map((d) => d.name), text };
  });
  assert.ok(idb.names.some((n) => n.startsWith('lightbeam:http://127.0.0.1')), idb.names.join());
  assert.ok(!idb.text.includes('testsecret'));
  const tokens = (await readFile(path.join(work, 'tokens.txt'), 'utf8')).split('\n').filter((t) => t.trim());
  assert.ok(tokens.length > 0, 'the page obtained tokens');
  const local = await page.evaluate(() => JSON.stringify(Object.assign({}, localStorage)));
  for (const t of tokens) {
    assert.ok(!idb.text.includes(t.trim()), 'a token in IndexedDB');
    assert.ok(!local.includes(t.trim()), 'a token in localStorage');
  }
  await page.getByLabel('Remember the client secret on this device').check();
  const remembered = await page.evaluate(() => localStorage.getItem('lightbeam.form'));
  assert.ok(remembered.includes('testsecret'));
  await page.getByLabel('Remember the client secret on this device').uncheck();
  assert.ok(!(await page.evaluate(() => localStorage.getItem('lightbeam.form'))).includes('testsecret'));
});

test('behind a rate limit: the page says the API pushes back, and everything lands', async () => {
  const limited = await startSandbox(['--rate-limit', '25']);
  try {
    await page.getByLabel('Base URL').fill(limited.url);
    await page.getByLabel('Retries').fill('20');
    const file = path.join(SHARED_EDFI, 'descriptors/ds-5.2.0_jsonl/countryDescriptors.jsonl');
    await page.setInputFiles('#data-files', [file]);
    await page.waitForFunction(() => document.querySelectorAll('#plan tbody tr').length === 1);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.waitForSelector('.pushback', { timeout: 60_000 });
    assert.match(await page.locator('.pushback').textContent(), /^API pushing back: .+ requests on the wire$/);
    await shot('9-pushback');
    await waitForRunEnd();
    assert.equal(await page.locator('.pushback').count(), 0, 'gone when the run ends');
    const s = await stats(limited.url);
    assert.ok(s.rate_limited > 0, JSON.stringify(s));
    assert.equal(s.creates + s.updates, 249, 'every country landed');
  } finally {
    limited.stop();
  }
});

test('the bundle: hashed file names, and the page runs under its Content-Security-Policy', async () => {
  const html = await readFile(path.join(DIST, 'index.html'), 'utf8');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  const names = (await readdir(path.join(DIST, 'pkg'))).sort();
  assert.equal(names.length, 2, names.join(', '));
  assert.match(names[0], /^lightbeam_web-[0-9a-f]{16}\.js$/);
  assert.match(names[1], /^lightbeam_web_bg-[0-9a-f]{16}\.wasm$/);
  assert.ok(html.includes(`./pkg/${names[0]}`), 'index.html imports the hashed JS');
  // every test above ran (config, validate, send, count, fetch, delete) and nothing was refused
  assert.deepEqual(refused, []);
});
