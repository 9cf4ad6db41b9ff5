// Lighthouse 12 (mobile, simulated throttling) on each URL; prints the four category scores
// and exits non-zero unless accessibility, SEO and best practices are 100 and performance >= 95.
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let failed = false;
for (const url of process.argv.slice(2)) {
  const chrome = await chromeLauncher.launch({ chromePath: process.env.CHROMIUM || '/usr/bin/chromium', chromeFlags: flags });
  const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error' });
  await chrome.kill();
  const c = result.lhr.categories;
  const scores = { performance: c.performance.score, accessibility: c.accessibility.score, 'best-practices': c['best-practices'].score, seo: c.seo.score };
  console.log(`lighthouse ${url}: ` + Object.entries(scores).map(([k, v]) => `${k} ${Math.round(v * 100)}`).join(', '));
  for (const [id, audit] of Object.entries(result.lhr.audits)) {
    if (audit.score !== null && audit.score < 1 && audit.scoreDisplayMode === 'binary') console.log(`  - ${id}: ${audit.title}`);
  }
  if (scores.accessibility < 1 || scores.seo < 1 || scores['best-practices'] < 1 || scores.performance < 0.95) failed = true;
}
process.exit(failed ? 1 : 0);
