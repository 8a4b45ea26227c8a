// The live dashboard, in headless Chromium (Debian's chromium, driven by
// puppeteer-core): a real-process cluster's head serves it, pages load with
// no console errors, show the cluster's nodes, update while tasks run, keep
// text from guests as text, and every byte of data needs the token. The
// embedded node serves one with init({ dashboard }). Screenshots go to
// .tap/dashboard/.
import t from 'tap';
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import puppeteer from 'puppeteer-core';
import * as tsray from 'tsray';
import { ROOT, prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const SHOTS = join(ROOT, '.tap', 'dashboard');
const TOKEN = 'dashboard-test-token';
const env = isolatedEnv('dashboard');

/** The WebSocket upgrade's answer: 'open', or the HTTP status it was refused with. */
function upgrade(url, headers = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.on('error', () => resolve('error'));
  });
}

/** A page that records console errors and uncaught exceptions. */
async function open(browser, t, url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
  t.teardown(() => page.close().catch(() => undefined));
  return { page, errors };
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

t.test('the dashboard in headless Chromium', async (t) => {
  t.ok(CHROMIUM, 'Debian\'s chromium is installed (.ci/run installs it)');
  mkdirSync(SHOTS, { recursive: true });
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());

  t.test("a cluster's head serves it: nodes, live task counts, every tab, and only with the token", async (t) => {
    const nested = await tsray.load(await prebuilt('nested'));
    const { address, head, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '1', '--dashboard-port', '0'], nodeArgs: [['--num-cpus', '2']] });
    const base = /tsray dashboard at (http:\/\/\S+)/.exec(head.output().out)?.[1];
    t.ok(base, 'the head printed where its dashboard is');
    await tsray.init({ address, token: TOKEN });
    t.teardown(() => tsray.shutdown());

    // Data needs the token; the page's files do not (they hold none).
    const ws = base.replace('http', 'ws');
    t.equal(await upgrade(`${ws}ws`), 401, 'no token: the live feed is refused');
    t.equal(await upgrade(`${ws}ws?token=wrong`), 401, 'a wrong token is refused');
    t.equal(await upgrade(`${ws}ws?token=${TOKEN}`, { origin: 'http://evil.example' }), 403, 'a page from another origin is refused, token or not');
    t.equal(await upgrade(`${ws}ws?token=${TOKEN}`), 'open');
    t.equal((await fetch(`${base}api/snapshot`)).status, 401);
    t.equal((await fetch(`${base}api/snapshot`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const page0 = await fetch(base);
    t.equal(page0.status, 200);
    t.match(page0.headers.get('content-security-policy'), /script-src 'self'/);
    t.equal((await fetch(`${base}../../etc/passwd`)).status, 404, 'only its own files are served');
    const probe = async (p) => { const r = await fetch(`${base}${p}`); return [r.status, await r.text()]; };
    t.same(await probe('healthz'), [200, 'ok\n'], 'a liveness probe, without a token');
    t.same(await probe('readyz'), [200, 'ready\n'], 'a readiness probe: ready once the head has a live node');

    const { page, errors } = await open(browser, t, `${base}#token=${encodeURIComponent(TOKEN)}`);
    await page.waitForFunction(() => document.getElementById('node-count')?.textContent === '2', { timeout: 15_000 });
    const nodeIds = await page.$$eval('#nodes .node', (els) => els.map((e) => e.dataset.node));
    t.same(nodeIds.sort(), [...nodeIds].sort(), 'nodes are listed');
    t.ok(nodeIds.includes(nodes[0].nodeId), "the joined node's card is shown");
    t.equal(nodeIds.length, 2, 'the head\'s node and the joined one');
    t.equal(await page.evaluate(() => location.hash), '', 'the token left the address bar');

    // Tasks run while the page is open: its counts move without a reload.
    const before = Number(await text(page, '#task-count'));
    const refs = Array.from({ length: 20 }, (_, i) => nested.fn('nap').remote(50 + i));
    await page.waitForFunction((n) => Number(document.getElementById('task-count').textContent) >= n + 20, { timeout: 20_000 }, before);
    await tsray.get(refs);
    // Text from a guest stays text: a failure message with markup in it.
    await tsray.get(nested.fn('fails').remote('<img src=x onerror="window.__pwned=1">')).catch(() => undefined);
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    await page.click('button[data-tab="tasks"]');
    await page.waitForFunction(() => [...document.querySelectorAll('#task-table td')].some((td) => td.textContent.includes('<img src=x')), { timeout: 15_000 });
    t.equal(await page.evaluate(() => window.__pwned), undefined, 'markup in a guest error is shown, never run');
    t.equal(await page.$$eval('#task-table img', (x) => x.length), 0);
    const byFunction = await text(page, '#by-function');
    t.match(byFunction, /nap/, 'the per-function summary counts the tasks');
    await page.select('#state-filter', 'FAILED');
    const states = await page.$eval('#task-table', (table) => {
      const col = [...table.querySelectorAll('th')].findIndex((th) => th.textContent === 'state');
      return [...table.querySelectorAll('tbody tr')].map((tr) => tr.children[col].textContent);
    });
    t.ok(states.length >= 1 && states.every((s) => s === 'FAILED'), 'the state filter shows only failed tasks');
    await page.screenshot({ path: join(SHOTS, 'tasks.png'), fullPage: true });

    for (const tab of ['actors', 'objects', 'timeline', 'logs', 'jobs']) {
      await page.click(`button[data-tab="${tab}"]`);
      t.ok(await page.$eval(`#${tab}`, (e) => e.classList.contains('on') && e.childElementCount > 0), `the ${tab} tab shows`);
    }
    t.match(await text(page, '#memory'), /Object references status/, "the objects tab shows tsray memory's report");
    await page.click('button[data-tab="timeline"]');
    t.ok(await page.$$eval('#timeline svg rect', (r) => r.length) >= 20, 'the timeline draws the tasks that ran');
    await page.screenshot({ path: join(SHOTS, 'timeline.png'), fullPage: true });
    t.same(errors, [], 'no console errors');

    const snap = await (await fetch(`${base}api/snapshot`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    t.equal(snap.schema, 'tsray.dashboard/1');
    t.equal(snap.status.nodes.length, 2);
  });

  t.test('the embedded node serves one with init({ dashboard })', async (t) => {
    await t.rejects(tsray.init({ dashboard: { port: -1 } }), { code: 'ERR_INVALID_ARGUMENT' });
    await tsray.init({ numCpus: 1, dashboard: { port: 0 } });
    t.teardown(() => tsray.shutdown());
    const url = tsray.dashboardUrl();
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=/);
    const { page, errors } = await open(browser, t, url);
    await page.waitForFunction(() => document.getElementById('node-count')?.textContent === '1', { timeout: 10_000 });
    t.same(errors, [], 'no console errors');
    const base = url.split('#')[0];
    await tsray.shutdown();
    t.equal(tsray.dashboardUrl(), undefined, 'it stops with the node');
    t.not((await fetch(base).catch(() => ({ status: 'closed' }))).status, 200, 'and no longer answers');
  });
});
