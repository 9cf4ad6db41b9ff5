// Browser test of the newsletter desk in headless Debian chromium, with an SMTP sink in this
// process: an editor finds a subscriber and erases them, imports a CSV with bad lines, sends
// a test of a built issue, sends it and watches its counts reach "sent", and presses
// "publish and send" twice on one article (one mail per reader). Then the HTML parts of the
// digest, the breaking mail and the confirmation are shot at 390 px, light and dark.
// Run through scripts/browser-test-newsletter, which starts the server.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { BASE, EMAIL, PASSWORD, SHOTS } = process.env;
const SMTP_PORT = Number(process.env.SMTP_PORT);
if (!BASE || !EMAIL || !PASSWORD || !SHOTS || !SMTP_PORT) throw new Error('BASE, EMAIL, PASSWORD, SHOTS and SMTP_PORT are required');
mkdirSync(SHOTS, { recursive: true });
const check = (cond, what) => { if (!cond) throw new Error(`browser test failed: ${what}`); console.log(`ok - ${what}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ── A minimal SMTP server: enough of RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
const mails = [];
const sink = createServer((socket) => {
  let buffer = '';
  let inData = false;
  let rcpt = [];
  socket.write('220 sink ESMTP\r\n');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const data = Buffer.from(buffer.slice(0, end), 'latin1').toString('utf8');
        buffer = buffer.slice(end + 5);
        inData = false;
        mails.push({ to: rcpt, data });
        rcpt = [];
        socket.write('250 OK queued\r\n');
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') socket.write('250-sink\r\n250 8BITMIME\r\n');
      else if (verb === 'RCPT') { rcpt.push(line.match(/<([^>]*)>/)[1].toLowerCase()); socket.write('250 OK\r\n'); }
      else if (verb === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); }
      else if (verb === 'QUIT') { socket.end('221 bye\r\n'); return; }
      else socket.write('250 OK\r\n');
    }
  });
  socket.on('error', () => {});
});
await new Promise((resolve) => sink.listen(SMTP_PORT, '127.0.0.1', resolve));

const mailsTo = (address) => mails.filter((m) => m.to.includes(address));
const header = (mail, name) => {
  const head = mail.data.split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return '';
  // Encoded words (=?utf-8?b?…?=), as lettre writes Arabic subjects.
  return line.slice(name.length + 1).trim().replace(/=\?utf-8\?b\?([^?]*)\?=\s*/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
};
const htmlPart = (mail) => {
  const at = mail.data.search(/Content-Type: text\/html/i);
  const body = mail.data.slice(at).split('\r\n\r\n')[1].split('\r\n--')[0];
  return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
};
async function waitForMails(address, n, what, seconds = 60) {
  for (let i = 0; i < seconds * 10 && mailsTo(address).length < n; i++) await sleep(100);
  check(mailsTo(address).length >= n, what);
}

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
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL('**/admin/articles'), page.click('button[type=submit]')]);

  // ── Find a subscriber and erase them.
  await page.click('a[href="/admin/newsletter"]');
  check((await page.textContent('h1')).includes('النشرة البريدية'), 'the newsletter desk is in the admin nav');
  check(await page.locator('svg polyline').count() === 3, 'the sign-up chart has three lines');
  await page.screenshot({ path: join(SHOTS, 'nl-01-desk.png'), fullPage: true });
  await page.goto(`${BASE}/admin/newsletter/subscribers`);
  await page.fill('#q', 'erase-me');
  await Promise.all([page.waitForURL(/q=erase-me/), page.click('form[role=search] button')]);
  check(await page.locator('#subscribers tbody a').count() === 1, 'the search finds the one subscriber');
  await Promise.all([page.waitForURL(/\/subscribers\/\d+$/), page.click('#subscribers tbody a')]);
  check((await page.textContent('h1')).includes('erase-me@example.org'), "the subscriber's history page");
  await Promise.all([page.waitForURL(/erased=1/), page.click('#erase')]);
  check(await page.isVisible('#erased'), 'erasure confirmed');
  await page.goto(`${BASE}/admin/newsletter/subscribers?q=erase-me`);
  check(await page.locator('#subscribers tbody a').count() === 0, 'the erased subscriber is gone');

  // ── Import a CSV with bad lines: a dry run reports them by number, then the good lines are kept.
  const csv = 'email,frequency\nimported-1@example.org\nnot an address\nimported-2@example.org,weekly\nimported-3@example.org,monthly\n';
  const file = { name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) };
  await page.setInputFiles('#file', file);
  await page.check('input[name=consent][value=consented]');
  await Promise.all([page.waitForURL('**/admin/newsletter/import'), page.click('form[enctype] button[type=submit]')]);
  const dry = await page.textContent('#import-report');
  check(dry.includes('السطر 3') && dry.includes('السطر 5') && dry.includes('تجربة بلا حفظ'), 'the dry run reports lines 3 and 5');
  await page.screenshot({ path: join(SHOTS, 'nl-02-import-dry-run.png'), fullPage: true });
  await page.setInputFiles('#file', file);
  await page.check('input[name=consent][value=consented]');
  await page.uncheck('input[name=dry_run]');
  await Promise.all([page.waitForURL('**/admin/newsletter/import'), page.click('form[enctype] button[type=submit]')]);
  check((await page.textContent('#import-report')).includes('أُضيف 2'), 'the two good lines are imported');
  await page.goto(`${BASE}/admin/newsletter/subscribers?q=imported-`);
  check(await page.locator('#subscribers tbody a').count() === 2, 'the imported readers are listed');
  // One reader asked to confirm (for the confirmation mail's screenshot).
  await page.setInputFiles('#file', { name: 'one.csv', mimeType: 'text/csv', buffer: Buffer.from('confirm-me@example.org\n') });
  await page.check('input[name=consent][value=confirm]');
  await page.uncheck('input[name=dry_run]');
  await Promise.all([page.waitForURL('**/admin/newsletter/import'), page.click('form[enctype] button[type=submit]')]);
  await waitForMails('confirm-me@example.org', 1, 'the imported reader asked to confirm gets the confirmation mail');

  // ── Build an issue, send a test to myself, send it, watch the counts reach "sent".
  await page.goto(`${BASE}/admin/newsletter`);
  await page.fill('#days', '2');
  await Promise.all([page.waitForURL(/\/issues\/\d+$/), page.click('form[action="/admin/newsletter/issues"] button')]);
  check(await page.getAttribute('#issue-status', 'data-status') === 'empty', 'the built issue waits');
  const issueUrl = page.url();
  await page.click('#send-test');
  await waitForMails(EMAIL, 1, 'the test reaches the editor');
  check(header(mailsTo(EMAIL)[0], 'Subject').includes('تجربة'), 'the test is marked as one');
  check(mailsTo('reader-a@example.org').length === 0, 'a test goes to nobody else');
  await page.click('#send-now');
  let status = '';
  for (let i = 0; i < 120 && status !== 'sent'; i++) {
    await page.waitForTimeout(500);
    status = await page.getAttribute('#issue-status', 'data-status').catch(() => '');
  }
  check(status === 'sent', 'the issue page refreshed itself until the issue was sent');
  const sent = await page.textContent('td[data-count=sent]');
  check(sent.trim() === '5', `counts: sent 5 (3 readers + 2 imported), got ${sent}`);
  await page.screenshot({ path: join(SHOTS, 'nl-03-issue-sent.png'), fullPage: true });
  for (const r of ['reader-a@example.org', 'reader-b@example.org', 'reader-c@example.org', 'imported-1@example.org', 'imported-2@example.org']) {
    await waitForMails(r, 1, `${r} got the issue`);
  }
  check(mailsTo('erase-me@example.org').length === 0, 'the erased reader gets nothing');
  const digest = mailsTo('reader-a@example.org')[0];
  const preview = await context.newPage();
  await preview.goto(`${issueUrl}/preview`);
  check((await preview.content()).includes('dir="rtl"'), 'the issue as it renders, in the browser');
  await preview.close();

  // ── Publish and send, pressed twice: one mail per reader.
  await page.goto(`${BASE}/admin/articles/new`);
  await page.fill('#headline', 'عاجل: انقطاع الكهرباء عن أحياء العاصمة');
  await page.fill('#lead', 'انقطع التيار الكهربائي عن عدة أحياء صباح اليوم.');
  // The body is written in the block editor (the textarea is its no-JavaScript fallback).
  await page.waitForSelector('.ProseMirror');
  await page.click('.ProseMirror');
  await page.keyboard.type('قالت وزارة الكهرباء إن فرق الصيانة تعمل على إعادة التيار خلال ساعات.');
  await page.keyboard.press('Enter');
  await page.keyboard.type('وطلبت من السكان ترشيد الاستهلاك.');
  await page.selectOption('#status', 'published');
  await Promise.all([page.waitForURL(/\/admin\/newsletter\/issues\/\d+$/), page.click('#publish-send')]);
  const breakingUrl = page.url();
  await Promise.all([page.waitForURL(/\/admin\/articles\/\d+$/), page.click('#article-link')]);
  await page.selectOption('#status', 'published');
  await Promise.all([page.waitForURL(/already=1/), page.click('#publish-send')]);
  check(page.url().startsWith(breakingUrl), 'the second press leads to the same mail, not a new one');
  await page.goto(breakingUrl);
  for (let i = 0; i < 120 && (await page.getAttribute('#issue-status', 'data-status').catch(() => '')) !== 'sent'; i++) await page.waitForTimeout(500);
  await sleep(2000);
  for (const r of ['reader-a@example.org', 'reader-b@example.org', 'imported-1@example.org']) {
    const breaking = mailsTo(r).filter((m) => header(m, 'Subject').startsWith('عاجل'));
    check(breaking.length === 1, `${r} got the breaking mail once (${breaking.length})`);
  }
  const breaking = mailsTo('reader-a@example.org').find((m) => header(m, 'Subject').startsWith('عاجل'));
  check(htmlPart(breaking).includes('فرق الصيانة'), 'the mail carries the article');

  // ── The mails as a reader sees them: 390 px, light and dark.
  const shots = [['digest', digest], ['breaking', breaking], ['confirm', mailsTo('confirm-me@example.org')[0]]];
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  for (const [name, mail] of shots) {
    const html = htmlPart(mail);
    check(!/<script|<link|<style/i.test(html), `${name}: no script, no external or embedded style sheet`);
    for (const scheme of ['light', 'dark']) {
      await phone.emulateMedia({ colorScheme: scheme });
      await phone.setContent(html);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(overflow <= 1, `${name} (${scheme}): no sideways scrolling at 390 px (${overflow})`);
      check(await phone.evaluate(() => getComputedStyle(document.body).direction) === 'rtl', `${name} (${scheme}): right to left`);
      await phone.screenshot({ path: join(SHOTS, `mail-${name}-${scheme}-390.png`), fullPage: true });
    }
  }
  console.log(`newsletter browser test passed; screenshots in ${SHOTS}`);
} finally {
  await context.close();
  sink.close();
}
