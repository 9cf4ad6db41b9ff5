// Browser test of the newsroom editor in headless Debian chromium: log in, upload an image,
// write an article with a subheading, a quote and the image, preview it, schedule it for the
// next minute, and watch the running server publish it. Screenshots go to $SHOTS.
// Run through scripts/browser-test, which starts the server and creates the account.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const BASE = process.env.BASE;
const EMAIL = process.env.EMAIL;
const PASSWORD = process.env.PASSWORD;
const SHOTS = process.env.SHOTS;
const TZ = process.env.NEWSROOM_TZ || 'Asia/Damascus';
if (!BASE || !EMAIL || !PASSWORD || !SHOTS) throw new Error('BASE, EMAIL, PASSWORD and SHOTS are required');
mkdirSync(SHOTS, { recursive: true });

// A real 480×270 PNG (a gradient), made here so the test needs no fixture files.
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = 20 + (x * 200) / width; raw[o + 1] = 50 + (y * 150) / height; raw[o + 2] = 120;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// `datetime-local` value for a moment, in the newsroom's zone.
function localInput(date) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

const check = (cond, what) => { if (!cond) throw new Error(`browser test failed: ${what}`); console.log(`ok - ${what}`); };

// Playwright takes the fresh profile directory (--user-data-dir) as its own parameter.
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'nashir-chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  locale: 'ar',
  viewport: { width: 1200, height: 900 },
});
try {
  const page = await context.newPage();

  await page.goto(`${BASE}/admin/login`);
  check(await page.getAttribute('html', 'dir') === 'rtl', 'the login page is RTL');
  await page.screenshot({ path: join(SHOTS, '01-login.png') });
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/admin/articles'), page.click('button[type=submit]')]);
  check((await page.textContent('h1')).includes('المقالات'), 'logged in to the article list');

  await page.goto(`${BASE}/admin/media`);
  await page.fill('#alt', 'ساحة البلدة عند الغروب');
  await page.setInputFiles('#file', { name: 'sahat.png', mimeType: 'image/png', buffer: png(480, 270) });
  await page.click('form[enctype] button[type=submit]');
  await page.waitForSelector('#uploaded-markup');
  const imageMarkup = (await page.textContent('#uploaded-markup')).trim();
  check(/^!\[ساحة البلدة عند الغروب\]\(\/media\/[0-9a-f]{20}-480x270\.png\)$/.test(imageMarkup), `image uploaded: ${imageMarkup}`);
  await page.screenshot({ path: join(SHOTS, '02-media.png') });

  await page.goto(`${BASE}/admin/articles/new`);
  const headline = `مهرجان الزيتون يعود إلى البلدة ${Date.now() % 100000}`;
  await page.fill('#headline', headline);
  await page.fill('#lead', 'بعد غياب ثلاث سنوات، عاد مهرجان الزيتون إلى ساحة البلدة بمشاركة واسعة من المزارعين.');
  await page.fill('#body', [
    'افتتح المهرجان صباح الجمعة بعرض لأنواع الزيت المحلي وأدوات العصر التقليدية.',
    '## موسم أفضل من المتوقع',
    'قال المزارعون إن الأمطار المتأخرة أنقذت الموسم بعد صيف جاف.',
    '> الزيتون ذاكرة هذه الأرض، ولن نتركه',
    `${imageMarkup}\nالساحة في اليوم الأول للمهرجان`,
    'ويستمر المهرجان ثلاثة أيام.',
  ].join('\n\n'));
  await page.fill('#section', 'مجتمع');
  await page.fill('#tags', 'زيتون، مهرجانات');
  await page.click('button[value=preview]');
  await page.waitForSelector('section.preview');
  check(await page.isVisible('section.preview h2:has-text("موسم أفضل من المتوقع")'), 'preview shows the subheading');
  check(await page.isVisible('section.preview blockquote'), 'preview shows the quote');
  check(await page.isVisible('section.preview img[width="480"][height="270"]'), 'preview shows the image with its size');
  await page.screenshot({ path: join(SHOTS, '03-preview.png'), fullPage: true });

  // Schedule for the next whole minute in the newsroom's time zone.
  const at = new Date(Math.ceil((Date.now() + 5000) / 60000) * 60000);
  await page.selectOption('#status', 'scheduled');
  await page.fill('#publish_at', localInput(at));
  await Promise.all([page.waitForURL(/\/admin\/articles\/\d+\?saved=1$/), page.click('button[value=save]')]);
  const id = page.url().match(/articles\/(\d+)/)[1];
  check((await page.textContent('h1')).includes('مجدول'), `article ${id} saved as scheduled for ${localInput(at)}`);
  await page.screenshot({ path: join(SHOTS, '04-scheduled.png'), fullPage: true });
  // The form as shown saves again unchanged (a new revision, still scheduled).
  await Promise.all([page.waitForURL(/\/admin\/articles\/\d+\?saved=1$/), page.click('button[value=save]')]);
  check(await page.inputValue('#featured_src') === '' && (await page.textContent('h1')).includes('مجدول'), 'saving the form as shown works');
  await page.goto(`${BASE}/admin/articles/${id}/revisions`);
  check(await page.locator('tbody tr').count() === 2, 'both saves are revisions');

  const before = await page.request.get(`${BASE}/news/${id}`, { maxRedirects: 0 });
  check(before.status() === 404, 'not public before its time');

  let published = false;
  for (let i = 0; i < 100 && !published; i++) {
    const r = await page.request.get(`${BASE}/news/${id}`, { maxRedirects: 0 });
    published = r.status() === 308;
    if (!published) await page.waitForTimeout(1000);
  }
  check(published, 'the server published it at its time');
  const reader = await context.newPage();
  await reader.goto(`${BASE}/news/${id}`);
  check((await reader.textContent('h1')).includes('مهرجان الزيتون'), 'the public page shows the headline');
  check(await reader.isVisible('article h2:has-text("موسم أفضل من المتوقع")'), 'the public page shows the subheading');
  check(await reader.isVisible('article blockquote:has-text("الزيتون ذاكرة هذه الأرض")'), 'the public page shows the quote');
  const img = reader.locator('article figure img');
  check(await img.getAttribute('width') === '480' && await img.getAttribute('height') === '270' && (await img.getAttribute('srcset')).includes('480w'),
    'the image has width, height and srcset');
  await img.scrollIntoViewIfNeeded();
  const loaded = await reader.waitForFunction(() => {
    const el = document.querySelector('article figure img');
    return el && el.complete && el.naturalWidth > 0; // srcset scales naturalWidth by the chosen density
  }, null, { timeout: 10000 }).then(() => true, () => false);
  check(loaded, 'the image loads');
  await reader.screenshot({ path: join(SHOTS, '05-published.png'), fullPage: true });

  // The unsaved-changes guard (JavaScript enhancement).
  const editor = await context.newPage();
  await editor.goto(`${BASE}/admin/articles/new`);
  await editor.fill('#headline', 'نص لم يُحفظ');
  let guarded = false;
  editor.on('dialog', async (d) => { guarded = d.type() === 'beforeunload'; await d.dismiss(); });
  await editor.close({ runBeforeUnload: true });
  await page.waitForTimeout(500);
  check(guarded, 'leaving with unsaved changes asks first');
  console.log(`screenshots in ${SHOTS}`);
} finally {
  await context.close();
}
