// Screenshots of the public pages for people to look at (issue 18): each page at 390 and
// 1280 px, light and dark (prefers-color-scheme), whole page, lazy images loaded.
//   node screenshots.mjs OUT_DIR name=URL...
import { chromium } from 'playwright-core';
import fs from 'fs';

const [out, ...pages] = process.argv.slice(2);
fs.mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = 0;
for (const spec of pages) {
  const [name, url] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
  for (const width of [390, 1280]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme });
      const response = await page.goto(url);
      if (!response || response.status() !== 200) {
        console.log(`screenshot ${name}: HTTP ${response && response.status()}  FAILED`);
        failed++;
        await page.close();
        continue;
      }
      // Scroll through the page so lazy images load, then back to the top.
      await page.evaluate(async () => {
        for (let y = 0; y < document.body.scrollHeight; y += 600) {
          window.scrollTo(0, y);
          await new Promise((r) => setTimeout(r, 30));
        }
        window.scrollTo(0, 0);
      });
      await page.waitForLoadState('networkidle');
      const file = `${out}/${name}-${width}-${colorScheme}.png`;
      await page.screenshot({ path: file, fullPage: true });
      console.log(`screenshot ${file}`);
      await page.close();
    }
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
