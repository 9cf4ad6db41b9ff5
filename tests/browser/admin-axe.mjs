// axe-core on every admin page, signed in as the demo owner (scripts/site-audit reads the
// login `nashir demo` prints). Exits non-zero on any violation or on a page that does not
// answer 200.   BASE=… EMAIL=… PASSWORD=… node admin-axe.mjs
import { chromium } from 'playwright-core';
import { createRequire } from 'module';
import fs from 'fs';

const { BASE, EMAIL, PASSWORD } = process.env;
if (!BASE || !EMAIL || !PASSWORD) throw new Error('BASE, EMAIL and PASSWORD are required');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
const page = await context.newPage();
let failed = 0;

async function audit(path) {
  const resp = await page.goto(BASE + path);
  if (!resp || resp.status() !== 200) {
    console.log(`admin axe ${path}: HTTP ${resp && resp.status()}  FAILED`);
    failed += 1;
    return;
  }
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => axe.run(document));
  console.log(`admin axe ${path}: ${result.violations.length} violations, ${result.passes.length} passes`);
  for (const v of result.violations) {
    console.log(`  - ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
  }
  failed += result.violations.length;
}

await audit('/admin/login');
await page.fill('#email', EMAIL);
await page.fill('#password', PASSWORD);
await Promise.all([page.waitForURL('**/admin/articles'), page.click('button[type=submit]')]);

await audit('/admin/articles');
const first = await page.getAttribute('table a[href^="/admin/articles/"]', 'href');
const pages = ['/admin/articles/new', '/admin/media', '/admin/newsletter', '/admin/newsletter/subscribers', '/admin/sections', '/admin/front', '/admin/users', '/admin/tokens', '/admin/password'];
if (first) pages.push(first, `${first}/revisions`, `${first}/related`);
for (const p of pages) await audit(p);
// One upload's page, when the library has any.
await page.goto(`${BASE}/admin/media`);
const item = await page.$$eval('a[href^="/admin/media/"]', (as) => as.map((a) => a.getAttribute('href')).find((h) => /^\/admin\/media\/\d+$/.test(h)));
if (item) await audit(item);
await browser.close();
process.exit(failed ? 1 : 0);
