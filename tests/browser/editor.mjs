// Browser test of the newsroom editor in headless Debian chromium. Part one, without
// JavaScript (the textarea form every browser gets): an editor logs in, uploads an image,
// writes an article with a subheading, a quote and the image, previews it, schedules it for
// the next minute, and watches the running server publish it. Part two, the block editor: a
// writer writes an article with emphasis, a link, a subheading, a quote with its attribution,
// a list, an image uploaded through the file chooser and a «اقرأ أيضاً» picked from the
// archive; autosave holds it through a reload; she submits it, the editor publishes it, and
// the public page, the RSS item and the API show the link, the emphasis and the image.
// axe-core checks the editor with every block type. Screenshots go to $SHOTS.
// Run through scripts/browser-test, which starts the server and creates the accounts.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const BASE = process.env.BASE;
const EMAIL = process.env.EMAIL;
const PASSWORD = process.env.PASSWORD;
const SHOTS = process.env.SHOTS;
const WRITER_EMAIL = process.env.WRITER_EMAIL;
const TZ = process.env.NEWSROOM_TZ || 'Asia/Damascus';
if (!BASE || !EMAIL || !PASSWORD || !SHOTS || !WRITER_EMAIL) throw new Error('BASE, EMAIL, WRITER_EMAIL, PASSWORD and SHOTS are required');
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

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// Playwright takes the fresh profile directory (--user-data-dir) as its own parameter.
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'nashir-chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ARGS,
  locale: 'ar',
  viewport: { width: 1200, height: 900 },
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axe-core on the page as it is (evaluated through the DevTools protocol, which the admin's
// CSP does not govern); every violation is a failure.
async function axe(page, what) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document));
  for (const v of result.violations) console.log(`  - ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
  check(result.violations.length === 0, `axe: 0 violations on ${what} (${result.passes.length} passes)`);
}

async function login(page, email) {
  await page.goto(`${BASE}/admin/login`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/admin/articles'), page.click('button[type=submit]')]);
}

try {
  // ── Part one, without JavaScript: the textarea form keeps working.
  const plain = await browser.newContext({ javaScriptEnabled: false, locale: 'ar', viewport: { width: 1200, height: 900 } });
  const page = await plain.newPage();
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
  check(await page.inputValue('input[name=featured_src]:checked') === '' && (await page.textContent('h1')).includes('مجدول'), 'saving the form as shown works');
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


  // ── Part two, the block editor (JavaScript on): a writer writes, autosave keeps the work.
  const writer = await browser.newContext({ locale: 'ar', viewport: { width: 1280, height: 900 } });
  const w = await writer.newPage();
  const errors = [];
  w.on('pageerror', (e) => errors.push(e.message));
  w.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await login(w, WRITER_EMAIL);
  await w.goto(`${BASE}/admin/articles/new`);
  await w.waitForSelector('.ProseMirror');
  check(await w.isHidden('#body') && await w.getAttribute('#body-editor', 'contenteditable') === 'true', 'the block editor replaces the textarea');
  const title = `أسواق البلدة تستعد لموسم الزيتون ${Date.now() % 100000}`;
  await w.fill('#headline', title);
  await w.click('.ProseMirror');
  await w.keyboard.type('بدأت الأسواق استعداداتها ');
  await w.keyboard.press('Control+b');
  await w.keyboard.type('قبل أسبوعين');
  await w.keyboard.press('Control+b');
  await w.keyboard.type(' من الموسم.');
  // Autosave starts with the first save: a draft.
  await Promise.all([w.waitForURL(/\/admin\/articles\/\d+\?saved=1$/), w.click('button[value=save]')]);
  const draftId = w.url().match(/articles\/(\d+)/)[1];
  check(await w.isVisible('.ProseMirror strong:has-text("قبل أسبوعين")'), `draft ${draftId} saved with its bold phrase`);

  await w.click('.ProseMirror p');
  await w.keyboard.press('Control+End');
  await w.keyboard.press('Enter');
  await w.keyboard.type('وقال تقرير البلدية إن الإنتاج سيرتفع، ');
  await w.keyboard.press('Control+k');
  await w.fill('#link-text', 'بحسب التقرير السنوي');
  await w.fill('#link-href', 'https://example.org/olive-report');
  await w.press('#link-href', 'Enter');
  await w.keyboard.type(' الصادر هذا الشهر.');
  await w.keyboard.press('Enter');
  await w.click('button[title="عنوان فرعي"]');
  await w.keyboard.type('أسعار الزيت');
  await w.keyboard.press('Enter');
  await w.click('button[title="اقتباس"]');
  await w.keyboard.type('نتوقع موسماً أفضل من العام الماضي');
  await w.fill('.pm-quote-intro', 'وقال رئيس جمعية المزارعين');
  await w.click('.ProseMirror blockquote');
  await w.keyboard.press('End');
  await w.keyboard.press('Enter');
  await w.keyboard.type('- ');
  await w.keyboard.type('زيت بكر ممتاز');
  await w.keyboard.press('Enter');
  await w.keyboard.type('زيت للطبخ');
  await w.keyboard.press('Enter');
  await w.keyboard.press('Enter');
  await w.keyboard.type('ويعرض المزارعون إنتاجهم في الساحة.');
  const [chooser] = await Promise.all([w.waitForEvent('filechooser'), w.click('button[title="أدرج صورة من جهازك"]')]);
  await chooser.setFiles({ name: 'souq.png', mimeType: 'image/png', buffer: png(640, 360) });
  await w.waitForSelector('.pm-image img');
  check(await w.getAttribute('.pm-alt', 'aria-invalid') === 'true', 'a new image asks for its alt text');
  await w.fill('.pm-alt', 'باعة الزيت في سوق البلدة');
  await w.fill('.pm-caption', 'السوق صباح السبت');
  await w.fill('.pm-credit', 'تصوير: سلمى');
  await w.click('button[title="أدرج «اقرأ أيضاً» من الأرشيف"]');
  await w.fill('#read-also-query', 'مهرجان الزيتون');
  await w.click('#read-also-results button:has-text("مهرجان الزيتون")');
  await w.waitForSelector('.ProseMirror .pm-read-also');
  const blocks = JSON.parse(await w.inputValue('#body_json'));
  check(JSON.stringify(blocks.map((b) => b.type)) === JSON.stringify(['paragraph', 'paragraph', 'subheading', 'quote', 'list', 'paragraph', 'image', 'read_also']),
    `the editor's blocks: ${blocks.map((b) => b.type).join(', ')}`);
  check(blocks[1].marks.some((m) => m.mark === 'link' && m.href === 'https://example.org/olive-report'), 'the link is a mark of the second paragraph');
  check(blocks[6].alt === 'باعة الزيت في سوق البلدة' && blocks[6].credit === 'تصوير: سلمى', 'the image has its alt text and credit');
  check(/عدد الكلمات: \S+ · وقت القراءة/.test(await w.textContent('#aids-counts')) && (await w.textContent('#aids-headline')).includes('طول مناسب'),
    'the writing aids count the words and judge the headline');
  await w.waitForFunction(() => document.getElementById('autosave-status').dataset.state === 'saved', null, { timeout: 15000 });
  check((await w.textContent('#autosave-status')).trim() === 'محفوظ', 'autosave says «محفوظ»');
  await w.evaluate(() => window.scrollTo(0, 0)); // the toolbar sticks to the top of what is shown
  await w.screenshot({ path: join(SHOTS, '06-editor-1280.png'), fullPage: true });
  await w.setViewportSize({ width: 390, height: 844 });
  await w.evaluate(() => window.scrollTo(0, 0));
  await w.screenshot({ path: join(SHOTS, '07-editor-390.png'), fullPage: true });
  await axe(w, 'the block editor with every block type (390 px)');
  await w.setViewportSize({ width: 1280, height: 900 });
  await axe(w, 'the block editor with every block type (1280 px)');

  // A closed tab: the saved draft has one paragraph; the autosave has everything.
  await w.reload();
  await w.waitForSelector('#restore-offer');
  check(await w.locator('.ProseMirror > *').count() === 1, 'after a reload the page shows the saved draft');
  await w.click('#restore-button');
  check(await w.isVisible('.ProseMirror strong:has-text("قبل أسبوعين")') && await w.isVisible('.ProseMirror a[href="https://example.org/olive-report"]:has-text("بحسب التقرير السنوي")'),
    'restored: the bold phrase and the link');
  check(await w.isVisible('.ProseMirror h2:has-text("أسعار الزيت")') && await w.inputValue('.pm-quote-intro') === 'وقال رئيس جمعية المزارعين',
    'restored: the subheading and the quote with its attribution');
  check(await w.locator('.ProseMirror ul li').count() === 2 && await w.inputValue('.pm-alt') === 'باعة الزيت في سوق البلدة'
    && await w.isVisible('.ProseMirror .pm-read-also:has-text("مهرجان الزيتون")'), 'restored: the list, the image with its alt, the read-also');
  // The preview is the public template, in its own tab.
  const [preview] = await Promise.all([writer.waitForEvent('page'), w.click('button[value=preview_page]')]);
  await preview.waitForLoadState();
  check(await preview.isVisible('article strong:has-text("قبل أسبوعين")') && await preview.isVisible('article figure img'),
    'the preview tab shows the article in the public template');
  await preview.screenshot({ path: join(SHOTS, '08-preview-public-template.png'), fullPage: true });
  await preview.close();
  await Promise.all([w.waitForURL(/\/admin\/articles\/\d+\?saved=1$/), w.click('button[value=submit]')]);
  check((await w.textContent('h1')).includes('بانتظار المراجعة'), 'submitted for review');

  // The editor publishes it.
  const desk = await browser.newContext({ locale: 'ar', viewport: { width: 1280, height: 900 } });
  const e = await desk.newPage();
  await login(e, EMAIL);
  await e.goto(`${BASE}/admin/articles/${draftId}`);
  await e.waitForSelector('.ProseMirror strong');
  await e.selectOption('#status', 'published');
  await Promise.all([e.waitForURL(/\/admin\/articles\/\d+\?saved=1$/), e.click('button[value=save]')]);
  check((await e.textContent('h1')).includes('منشور'), 'the editor published it');
  check(errors.length === 0, `no script errors in the editor${errors.length ? `: ${errors.join(' | ')}` : ''}`);

  const pub = await desk.newPage();
  await pub.goto(`${BASE}/news/${draftId}`);
  check(await pub.isVisible('article strong:has-text("قبل أسبوعين")'), 'the public page shows the emphasis');
  check(await pub.isVisible('article a[href="https://example.org/olive-report"]:has-text("بحسب التقرير السنوي")'), 'the public page shows the link');
  check(await pub.isVisible('article figure img[alt="باعة الزيت في سوق البلدة"]'), 'the public page shows the image');
  await pub.screenshot({ path: join(SHOTS, '09-published-from-editor.png'), fullPage: true });
  const rss = await (await pub.request.get(`${BASE}/feed.xml`)).text();
  const item = rss.split('<item>').find((i) => i.includes(title)) || '';
  check(/https:\/\/example\.org\/olive-report/.test(item) && /(&lt;|<)strong(&gt;|>)/.test(item) && /(&lt;|<)img /.test(item),
    'the RSS item carries the link, the emphasis and the image');
  const api = await (await pub.request.get(`${BASE}/api/v1/articles/${draftId}`)).json();
  const apiText = JSON.stringify(api);
  check(apiText.includes('https://example.org/olive-report') && apiText.includes('"bold"') && /\/media\//.test(apiText),
    'the API shows the link, the emphasis and the image');

  // The unsaved-changes guard (JavaScript enhancement).
  const editor = await writer.newPage();
  await editor.goto(`${BASE}/admin/articles/new`);
  await editor.fill('#headline', 'نص لم يُحفظ');
  let guarded = false;
  editor.on('dialog', async (d) => { guarded = d.type() === 'beforeunload'; await d.dismiss(); });
  await editor.close({ runBeforeUnload: true });
  await w.waitForTimeout(500);
  check(guarded, 'leaving with unsaved changes asks first');
  console.log(`screenshots in ${SHOTS}`);
} finally {
  await browser.close();
  await context.close();
}
