// Lighthouse 12 (mobile, simulated throttling) on the article editor, signed in: how fast a
// writer's first page is usable (issue 17 asks under 1 s). Prints the timings; it measures,
// it does not judge (timings are recorded in BENCHMARKS.md, never asserted).
//   BASE=… EMAIL=… PASSWORD=… node admin-lighthouse.mjs [path]
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

const { BASE, EMAIL, PASSWORD } = process.env;
const path = process.argv[2] || '/admin/articles/new';
if (!BASE || !EMAIL || !PASSWORD) throw new Error('BASE, EMAIL and PASSWORD are required');

// Sign in as a browser would: the login form's double-submit cookie and token, then the post.
const form = await fetch(`${BASE}/admin/login`);
const loginCookie = form.headers.get('set-cookie').split(';')[0];
const csrf = (await form.text()).match(/name="csrf" value="([0-9a-f]+)"/)[1];
const signed = await fetch(`${BASE}/admin/login`, {
  method: 'POST', redirect: 'manual',
  headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ email: EMAIL, password: PASSWORD, csrf, next: '/admin/articles' }),
});
const session = signed.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('nashir_session=') && c.length > 16);
if (!session) throw new Error(`login failed: HTTP ${signed.status}`);

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const chrome = await chromeLauncher.launch({ chromePath: process.env.CHROMIUM || '/usr/bin/chromium', chromeFlags: flags });
const result = await lighthouse(`${BASE}${path}`, { port: chrome.port, output: 'json', logLevel: 'error', extraHeaders: { Cookie: session }, onlyCategories: ['performance', 'accessibility'] });
await chrome.kill();
const a = result.lhr.audits;
const ms = (id) => Math.round(a[id].numericValue);
console.log(`lighthouse (mobile, simulated throttling) ${path}: performance ${Math.round(result.lhr.categories.performance.score * 100)}, ` +
  `accessibility ${Math.round(result.lhr.categories.accessibility.score * 100)}, first contentful paint ${ms('first-contentful-paint')} ms, ` +
  `largest contentful paint ${ms('largest-contentful-paint')} ms, interactive ${ms('interactive')} ms, total blocking ${ms('total-blocking-time')} ms, ` +
  `bytes ${Math.round(a['total-byte-weight'].numericValue / 1024)} KiB`);
