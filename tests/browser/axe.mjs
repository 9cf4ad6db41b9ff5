// axe-core in Debian's Chromium, driven by playwright-core: prints violations per page and
// exits non-zero when any page has one.  node axe.mjs URL...
import { chromium } from 'playwright-core';
import { createRequire } from 'module';
import fs from 'fs';

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
for (const url of process.argv.slice(2)) {
  for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 900 }]) {
    const page = await browser.newPage({ viewport, bypassCSP: true }); // axe is injected as a script: our CSP allows none
    await page.goto(url);
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() => axe.run(document));
    console.log(`axe ${viewport.width}px ${url}: ${result.violations.length} violations, ${result.passes.length} passes`);
    for (const v of result.violations) {
      console.log(`  - ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
    }
    failed += result.violations.length;
    await page.close();
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
