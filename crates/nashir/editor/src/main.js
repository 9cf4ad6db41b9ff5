// Nashir's block editor: mounts over the body textarea of /admin/articles/… and writes the
// article's blocks as JSON into the hidden field `body_json` that the server's save handler
// reads (the textarea form keeps working without JavaScript). Also: autosave to the server
// and to this browser, restore after a closed tab, and writing aids beside the text.
import { EditorState, TextSelection, NodeSelection } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { history, undo, redo } from 'prosemirror-history';
import { baseKeymap, toggleMark, setBlockType, chainCommands } from 'prosemirror-commands';
import { wrapInList, splitListItem, liftListItem, sinkListItem } from 'prosemirror-schema-list';
import { inputRules, textblockTypeInputRule, wrappingInputRule } from 'prosemirror-inputrules';
import { dropCursor } from 'prosemirror-dropcursor';
import { schema, acceptableHref } from './schema.js';
import { docFromBlocks, blocksFromDoc, plainText } from './model.js';

const CSS = `
.pm-wrap{background:#fff;border:1px solid #bbb;border-radius:4px}
.pm-toolbar{display:flex;flex-wrap:wrap;gap:.25rem;padding:.35rem;border-bottom:1px solid #ddd;position:sticky;top:0;background:#fff;z-index:2}
.pm-toolbar button{padding:.2rem .6rem;font-size:.95em}.pm-toolbar button[aria-pressed=true]{background:#2e5b86}
.ProseMirror{min-height:22rem;padding:.5rem 1rem;outline:none;white-space:pre-wrap;word-wrap:break-word;font-size:1.05em}
.ProseMirror:focus-visible{box-shadow:inset 0 0 0 2px #2e5b86}
.ProseMirror p,.ProseMirror h2,.ProseMirror blockquote,.ProseMirror li{unicode-bidi:plaintext}
.ProseMirror blockquote{border-inline-start:4px solid #14324f;margin:.2rem 0;padding:.2rem 1rem;background:#f2f5f8}
.ProseMirror a{color:#0b4f8a}.ProseMirror .ProseMirror-selectednode{outline:2px solid #2e5b86}
.pm-quote,.pm-image{margin:.8rem 0;border:1px dashed #bbb;padding:.4rem;border-radius:4px}
.pm-fields label{display:block;font-weight:400;margin:.2rem 0}.pm-fields input{width:100%;box-sizing:border-box;padding:.3rem;font:inherit;border:1px solid #bbb;border-radius:4px}
.pm-fields input[aria-invalid=true]{border-color:#c0392b;background:#fff6f6}
.pm-image img{display:block;max-height:18rem;width:auto;margin:0 auto}
.pm-read-also{background:#f2f5f8;padding:.3rem .6rem;border-radius:4px;font-weight:600}
.pm-panel{border:1px solid #bbb;background:#fbfbfb;padding:.5rem;margin:.4rem 0;border-radius:4px}
.pm-panel ul{list-style:none;padding:0;margin:.4rem 0}.pm-panel li{margin:.2rem 0}.pm-panel li button{width:100%;text-align:start;background:#fff;color:#14324f}
.pm-aids{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.5rem 1rem;margin:.6rem 0;font-size:.92em}
.pm-aids ul{margin:.2rem 0;padding-inline-start:1.2rem}.pm-aids button{padding:.05rem .5rem;font-size:.9em}
.pm-status{font-size:.9em;color:#333;margin:.3rem 0}.pm-status[data-state=conflict]{color:#8a1c12;font-weight:600}
.ProseMirror-gapcursor{display:none}[hidden]{display:none!important}
`;

const AUTOSAVE_DELAY_MS = 2000;
const RETRY_MS = 10000;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function readJson(id) {
  const script = document.getElementById(id);
  if (!script) return null;
  try { return JSON.parse(script.textContent); } catch { return null; }
}

// ---- node views: the parts of a block that are not running text are plain inputs ----

/// An input bound to one attribute of the node at `getPos()`.
function attrInput(view, getPos, node, name, label, extra) {
  const input = el('input', { type: 'text', dir: 'auto', value: node.attrs[name] || '', ...extra });
  // Enter in a field of the article form would send the form.
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  input.addEventListener('input', () => {
    const pos = getPos();
    if (typeof pos !== 'number') return;
    const current = view.state.doc.nodeAt(pos);
    if (!current) return;
    view.dispatch(view.state.tr.setNodeMarkup(pos, null, { ...current.attrs, [name]: input.value }));
    if (extra && extra.required !== undefined) input.setAttribute('aria-invalid', input.value.trim() ? 'false' : 'true');
  });
  return { input, label: el('label', null, label, input) };
}

class QuoteView {
  constructor(node, view, getPos) {
    this.node = node;
    this.intro = attrInput(view, getPos, node, 'intro', 'تقديم الاقتباس (اختياري، مثل: وقال الوزير)', { class: 'pm-quote-intro' });
    this.contentDOM = el('blockquote', { dir: 'auto' });
    this.dom = el('div', { class: 'pm-quote' }, el('div', { class: 'pm-fields', contenteditable: 'false' }, this.intro.label), this.contentDOM);
  }
  update(node) {
    if (node.type !== this.node.type) return false;
    this.node = node;
    if (this.intro.input.value !== node.attrs.intro && document.activeElement !== this.intro.input) this.intro.input.value = node.attrs.intro;
    return true;
  }
  stopEvent(event) { return event.target instanceof HTMLInputElement; }
  ignoreMutation(m) { return !this.contentDOM.contains(m.target) || m.type === 'attributes' && m.target === this.contentDOM; }
}

class ImageView {
  constructor(node, view, getPos) {
    this.node = node;
    this.img = el('img', { src: node.attrs.preview || node.attrs.src, alt: node.attrs.alt, width: node.attrs.width, height: node.attrs.height });
    this.alt = attrInput(view, getPos, node, 'alt', 'النص البديل (مطلوب: صف الصورة لمن لا يراها)', { required: true, class: 'pm-alt', 'aria-invalid': node.attrs.alt.trim() ? 'false' : 'true' });
    this.caption = attrInput(view, getPos, node, 'caption', 'التعليق', { class: 'pm-caption' });
    this.credit = attrInput(view, getPos, node, 'credit', 'المصدر أو المصوّر', { class: 'pm-credit' });
    this.dom = el('figure', { class: 'pm-image', contenteditable: 'false' }, this.img,
      el('figcaption', { class: 'pm-fields' }, this.alt.label, this.caption.label, this.credit.label));
  }
  update(node) {
    if (node.type !== this.node.type) return false;
    this.node = node;
    for (const name of ['alt', 'caption', 'credit']) {
      if (this[name].input.value !== node.attrs[name] && document.activeElement !== this[name].input) this[name].input.value = node.attrs[name];
    }
    this.img.alt = node.attrs.alt;
    return true;
  }
  stopEvent(event) { return event.target instanceof HTMLInputElement; }
  ignoreMutation() { return true; }
}

// ---- commands ----

function markActive(state, type) {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
}

/// Puts a block that holds no running text (an image, «اقرأ أيضاً») after the block the cursor
/// is in, or in place of an empty paragraph, and keeps a paragraph after it so writing goes on.
function insertBlock(view, node) {
  const { state } = view;
  const sel = state.selection;
  let tr = state.tr;
  let pos;
  if (sel instanceof NodeSelection) {
    pos = sel.to;
  } else if (sel.$from.depth >= 1 && sel.$from.depth === 1 && sel.$from.parent.isTextblock && sel.$from.parent.content.size === 0) {
    pos = sel.$from.before(1);
    tr = tr.delete(pos, sel.$from.after(1));
  } else {
    pos = sel.$from.depth >= 1 ? sel.$from.after(1) : sel.from;
  }
  tr = tr.insert(pos, node);
  const end = pos + node.nodeSize;
  const next = tr.doc.nodeAt(end);
  if (!next || !next.isTextblock) tr = tr.insert(end, schema.nodes.paragraph.create());
  tr = tr.setSelection(TextSelection.create(tr.doc, end + 1));
  view.dispatch(tr.scrollIntoView());
  view.focus();
}

function buildKeymap(openLink) {
  const mod = {
    'Mod-z': undo, 'Mod-y': redo, 'Shift-Mod-z': redo,
    'Mod-b': toggleMark(schema.marks.bold), 'Mod-i': toggleMark(schema.marks.italic),
    'Mod-k': (state, dispatch, view) => { if (dispatch) openLink(view); return true; },
    'Enter': splitListItem(schema.nodes.list_item),
    'Mod-[': liftListItem(schema.nodes.list_item), 'Mod-]': sinkListItem(schema.nodes.list_item),
    'Shift-Tab': liftListItem(schema.nodes.list_item),
  };
  return mod;
}

function rules() {
  return inputRules({
    rules: [
      textblockTypeInputRule(/^##\s$/, schema.nodes.subheading),
      textblockTypeInputRule(/^>\s$/, schema.nodes.quote),
      wrappingInputRule(/^\s*([-*•])\s$/, schema.nodes.bullet_list),
      wrappingInputRule(/^\s*([0-9٠-٩]+)[.)]\s$/, schema.nodes.ordered_list),
    ],
  });
}

// ---- the editor ----

function mount(form, textarea) {
  const data = readJson('editor-data') || {};
  const style = el('style');
  style.textContent = CSS;
  document.head.append(style);

  const hidden = el('input', { type: 'hidden', name: 'body_json', id: 'body_json' });
  form.append(hidden);
  const status = el('p', { class: 'pm-status', id: 'autosave-status', role: 'status', 'aria-live': 'polite' });
  const announce = el('p', { class: 'pm-status', id: 'editor-message', role: 'status', 'aria-live': 'polite' });
  const toolbar = el('div', { class: 'pm-toolbar', role: 'toolbar', 'aria-label': 'أدوات التحرير', 'aria-controls': 'body-editor' });
  const place = el('div', { class: 'pm-wrap' }, toolbar);
  const linkPanel = el('div', { class: 'pm-panel', id: 'link-panel', hidden: true });
  const pickerPanel = el('div', { class: 'pm-panel', id: 'read-also-panel', hidden: true });
  const fileInput = el('input', { type: 'file', id: 'editor-image-file', accept: 'image/jpeg,image/png,image/webp', hidden: true });
  const fileLabel = el('label', { for: 'editor-image-file', hidden: true }, 'صورة للمقال');
  const aids = el('aside', { class: 'pm-aids', 'aria-label': 'مساعدات الكتابة' });

  textarea.hidden = true;
  const help = document.getElementById('body-help');
  if (help) help.hidden = true;
  const label = document.querySelector('label[for=body]');
  if (label) label.id = 'body-label';
  textarea.after(status, place, linkPanel, pickerPanel, fileLabel, fileInput, announce, aids);

  let blocks = data.blocks;
  if (!Array.isArray(blocks)) {
    // A page re-shown after a form posted without the editor: the markup's paragraphs.
    blocks = textarea.value.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean).map((text) => ({ type: 'paragraph', text }));
  }

  let linkFrom = null;
  const openLink = (view) => {
    const { from, to, empty } = view.state.selection;
    linkFrom = { from, to };
    const existing = view.state.doc.rangeHasMark(from, to, schema.marks.link)
      ? (view.state.selection.$from.marks().find((m) => m.type === schema.marks.link) || {}).attrs : null;
    linkInput.value = existing ? existing.href : '';
    // With nothing selected, the panel asks for the words to link as well.
    linkTextRow.hidden = !empty;
    linkText.value = '';
    linkError.textContent = '';
    linkPanel.hidden = false;
    (empty ? linkText : linkInput).focus();
  };

  const view = new EditorView(place, {
    state: EditorState.create({
      doc: docFromBlocks(blocks),
      plugins: [rules(), keymap(buildKeymap(openLink)), keymap(baseKeymap), history(), dropCursor({ color: '#2e5b86' })],
    }),
    attributes: { id: 'body-editor', role: 'textbox', 'aria-multiline': 'true', 'aria-labelledby': 'body-label', dir: 'rtl', spellcheck: 'true' },
    nodeViews: {
      quote: (node, v, getPos) => new QuoteView(node, v, getPos),
      image: (node, v, getPos) => new ImageView(node, v, getPos),
    },
    handleDrop(v, event, slice, moved) {
      const files = imagesOf(event.dataTransfer);
      if (moved || files.length === 0) return false;
      event.preventDefault();
      const at = v.posAtCoords({ left: event.clientX, top: event.clientY });
      if (at) v.dispatch(v.state.tr.setSelection(TextSelection.near(v.state.doc.resolve(at.pos))));
      files.forEach((f) => upload(f));
      return true;
    },
    handlePaste(v, event) {
      const files = imagesOf(event.clipboardData);
      if (files.length === 0) return false;
      event.preventDefault();
      files.forEach((f) => upload(f));
      return true;
    },
    dispatchTransaction(tr) {
      view.updateState(view.state.apply(tr));
      refreshToolbar();
      if (tr.docChanged) changed();
    },
  });
  const imagesOf = (transfer) => Array.from((transfer && transfer.files) || []).filter((f) => /^image\/(jpeg|png|webp)$/.test(f.type));

  // Toolbar: buttons keep the editor's selection (mousedown does not take the focus).
  const buttons = [];
  const button = (text, title, run, isActive) => {
    const b = el('button', { type: 'button', class: 'secondary', title, 'aria-label': title });
    b.textContent = text;
    b.addEventListener('mousedown', (e) => e.preventDefault());
    b.addEventListener('click', () => { run(view); view.focus(); });
    if (isActive) { b.setAttribute('aria-pressed', 'false'); buttons.push([b, isActive]); }
    toolbar.append(b);
    return b;
  };
  const cmd = (c) => (v) => c(v.state, v.dispatch, v);
  button('عريض', 'عريض (Ctrl+B)', cmd(toggleMark(schema.marks.bold)), (s) => markActive(s, schema.marks.bold));
  button('مائل', 'مائل (Ctrl+I)', cmd(toggleMark(schema.marks.italic)), (s) => markActive(s, schema.marks.italic));
  button('رابط', 'رابط (Ctrl+K)', (v) => openLink(v), (s) => markActive(s, schema.marks.link));
  button('فقرة', 'فقرة', cmd(setBlockType(schema.nodes.paragraph)));
  button('عنوان فرعي', 'عنوان فرعي', cmd(setBlockType(schema.nodes.subheading)));
  button('اقتباس', 'اقتباس', cmd(setBlockType(schema.nodes.quote)));
  button('قائمة', 'قائمة نقطية', cmd(wrapInList(schema.nodes.bullet_list)));
  button('قائمة مرقّمة', 'قائمة مرقّمة', cmd(wrapInList(schema.nodes.ordered_list)));
  button('صورة', 'أدرج صورة من جهازك', () => fileInput.click());
  button('اقرأ أيضاً', 'أدرج «اقرأ أيضاً» من الأرشيف', () => { pickerPanel.hidden = false; pickerInput.focus(); });
  function refreshToolbar() {
    for (const [b, isActive] of buttons) b.setAttribute('aria-pressed', String(isActive(view.state)));
  }

  // Link panel.
  const linkInput = el('input', { type: 'url', id: 'link-href', dir: 'ltr', placeholder: 'https://… أو /news/…' });
  const linkText = el('input', { type: 'text', id: 'link-text', dir: 'auto' });
  const linkTextRow = el('div', null, el('label', { for: 'link-text' }, 'نص الرابط'), linkText);
  const linkError = el('span', { class: 'error-text', role: 'alert' });
  const closeLink = () => { linkPanel.hidden = true; view.focus(); };
  const applyLink = () => {
    const href = acceptableHref(linkInput.value);
    if (!href) { linkError.textContent = 'الرابط غير مقبول: يبدأ بـ https:// أو http:// أو بشرطة واحدة لمسار على هذا الموقع.'; return; }
    const { from, to } = linkFrom || view.state.selection;
    const mark = schema.marks.link.create({ href });
    let tr = view.state.tr;
    if (from === to) tr = tr.insert(from, schema.text(linkText.value.trim() || href, [mark]));
    else tr = tr.removeMark(from, to, schema.marks.link).addMark(from, to, mark);
    view.dispatch(tr);
    closeLink();
  };
  linkText.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); linkInput.focus(); } if (e.key === 'Escape') closeLink(); });
  linkInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); applyLink(); } if (e.key === 'Escape') closeLink(); });
  linkPanel.append(
    linkTextRow,
    el('label', { for: 'link-href' }, 'عنوان الرابط'), linkInput,
    el('p', null,
      el('button', { type: 'button', id: 'link-apply', onclick: applyLink }, 'طبّق الرابط'), ' ',
      el('button', { type: 'button', class: 'secondary', onclick: () => {
        const { from, to } = linkFrom || view.state.selection;
        view.dispatch(view.state.tr.removeMark(from, to, schema.marks.link));
        closeLink();
      } }, 'أزل الرابط'), ' ',
      el('button', { type: 'button', class: 'secondary', onclick: closeLink }, 'إلغاء')),
    linkError);

  // «اقرأ أيضاً» picker: the reader's search over the published archive.
  const pickerInput = el('input', { type: 'search', id: 'read-also-query', dir: 'auto', autocomplete: 'off' });
  const pickerList = el('ul', { id: 'read-also-results', 'aria-label': 'نتائج البحث في الأرشيف' });
  let searchTimer = null;
  let searchSeq = 0;
  const search = async () => {
    const q = pickerInput.value.trim();
    const seq = ++searchSeq;
    pickerList.replaceChildren();
    if (!q) return;
    try {
      const r = await fetch(`/api/v1/search?q=${encodeURIComponent(q)}&limit=8`, { headers: { Accept: 'application/json' } });
      const answer = await r.json();
      if (seq !== searchSeq) return;
      const hits = (answer.hits || []);
      if (hits.length === 0) pickerList.append(el('li', null, 'لا نتائج.'));
      for (const hit of hits) {
        pickerList.append(el('li', null, el('button', { type: 'button', dir: 'auto', onclick: () => {
          insertBlock(view, schema.nodes.read_also.create({ title: hit.headline }));
          pickerPanel.hidden = true;
          pickerInput.value = '';
          pickerList.replaceChildren();
          say(`أُدرج «اقرأ أيضاً: ${hit.headline}».`);
        } }, hit.headline)));
      }
    } catch {
      if (seq === searchSeq) pickerList.append(el('li', null, 'تعذّر البحث الآن.'));
    }
  };
  pickerInput.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
  pickerInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); clearTimeout(searchTimer); search(); } if (e.key === 'Escape') { pickerPanel.hidden = true; view.focus(); } });
  pickerPanel.append(el('label', { for: 'read-also-query' }, 'ابحث في الأرشيف عن مقال لـ«اقرأ أيضاً»'), pickerInput, pickerList,
    el('button', { type: 'button', class: 'secondary', onclick: () => { pickerPanel.hidden = true; view.focus(); } }, 'إغلاق'));

  // Images: the file picker, a drop or a paste go through the media upload.
  const say = (text) => { announce.textContent = text; };
  async function upload(file) {
    say(`جارٍ رفع ${file.name}…`);
    const body = new FormData();
    body.append('csrf', form.elements.csrf.value);
    body.append('alt', '');
    body.append('file', file, file.name);
    try {
      const r = await fetch('/admin/media', { method: 'POST', body, headers: { Accept: 'application/json' } });
      const answer = await r.json().catch(() => ({}));
      if (!r.ok || !answer.src) { say((answer.error && answer.error.message) || 'تعذّر رفع الصورة.'); return; }
      insertBlock(view, schema.nodes.image.create({ src: answer.src, preview: answer.preview || null, width: answer.width || null, height: answer.height || null }));
      say('رُفعت الصورة. اكتب نصها البديل.');
      const alts = view.dom.querySelectorAll('.pm-alt');
      const empty = Array.from(alts).find((i) => !i.value.trim());
      if (empty) empty.focus();
    } catch {
      say('تعذّر رفع الصورة: لا اتصال بالخادم.');
    }
  }
  fileInput.addEventListener('change', () => { Array.from(fileInput.files).forEach((f) => upload(f)); fileInput.value = ''; });

  // ---- the hidden field, writing aids, autosave ----
  const current = () => blocksFromDoc(view.state.doc);
  const sync = () => { hidden.value = JSON.stringify(current()); };
  sync();

  const headline = form.elements.headline;
  const aidsText = el('p', { id: 'aids-counts' });
  const headlineHint = el('p', { id: 'aids-headline' });
  const suggestions = el('div', { id: 'aids-suggestions' });
  aids.append(el('strong', null, 'مساعدات الكتابة'), aidsText, headlineHint, suggestions);
  const refreshAids = () => {
    const words = plainText(current()).split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    const minutes = Math.max(1, Math.round(words / 200));
    aidsText.textContent = `عدد الكلمات: ${words.toLocaleString('ar')} · وقت القراءة: ${minutes.toLocaleString('ar')} ${minutes <= 10 && minutes > 2 ? 'دقائق' : 'دقيقة'}`;
    const len = Array.from((headline && headline.value) || '').length;
    headlineHint.textContent = len === 0 ? 'العنوان: لم يُكتب بعد.'
      : len > 90 ? `العنوان ${len.toLocaleString('ar')} حرفاً: طويل، يُقتطع في نتائج البحث ومواقع التواصل (الأفضل 40–90).`
      : len < 25 ? `العنوان ${len.toLocaleString('ar')} حرفاً: قصير؛ أضف ما يوضح الخبر.`
      : `العنوان ${len.toLocaleString('ar')} حرفاً: طول مناسب.`;
  };
  refreshAids();
  loadSuggestions(data, form, suggestions, view, say);

  const key = `nashir-autosave-${data.id || 'new'}`;
  const fields = () => {
    sync();
    const out = {};
    for (const [name, value] of new FormData(form)) {
      if (name === 'csrf' || name === 'version' || name === 'action' || name === 'body') continue;
      out[name] = String(value);
    }
    out.body_json = JSON.stringify(blocksFromDoc(view.state.doc, true));
    return out;
  };
  const setStatus = (state, text) => { status.dataset.state = state; status.textContent = text; form.dataset.autosaved = state === 'saved' ? 'true' : 'false'; };
  setStatus('saved', data.id ? 'محفوظ' : 'لم يُحفظ بعد: يُحفظ تلقائياً بعد الحفظ الأول، وفي هذا المتصفح حتى ذلك الحين.');
  if (!data.id) form.dataset.autosaved = 'false';

  let timer = null;
  let inFlight = false;
  let again = false;
  let conflict = false;
  function changed() {
    sync();
    refreshAids();
    try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), version: data.version || null, fields: fields() })); } catch { /* private mode: the server copy still works */ }
    if (!data.id) return;
    if (!conflict) setStatus('dirty', 'غير محفوظ');
    clearTimeout(timer);
    timer = setTimeout(autosave, AUTOSAVE_DELAY_MS);
  }
  async function autosave() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    if (!conflict) setStatus('saving', 'جارٍ الحفظ…');
    try {
      const r = await fetch(`/admin/articles/${data.id}/autosave`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ csrf: form.elements.csrf.value, version: data.version, fields: fields() }),
      });
      const answer = await r.json().catch(() => ({}));
      if (r.status === 409) {
        conflict = true;
        setStatus('conflict', (answer.error && answer.error.message) || 'حفظ شخص آخر هذا المقال بعد أن فتحته.');
      } else if (!r.ok) {
        setStatus('dirty', `غير محفوظ: ${(answer.error && answer.error.message) || 'رفض الخادم الحفظ التلقائي.'}`);
      } else if (!conflict) {
        setStatus('saved', 'محفوظ');
      }
    } catch {
      setStatus('dirty', 'غير محفوظ: لا اتصال بالخادم؛ عملك محفوظ في هذا المتصفح وسيُرسل حين يعود الاتصال.');
      clearTimeout(timer);
      timer = setTimeout(autosave, RETRY_MS);
    } finally {
      inFlight = false;
      if (again) { again = false; autosave(); }
    }
  }
  window.addEventListener('online', () => { if (status.dataset.state === 'dirty' && data.id) autosave(); });
  form.addEventListener('input', (e) => { if (!view.dom.contains(e.target)) changed(); });
  form.addEventListener('change', (e) => { if (!view.dom.contains(e.target)) changed(); });
  form.addEventListener('submit', () => {
    sync();
    clearTimeout(timer);
    try { localStorage.removeItem(key); } catch { /* nothing kept */ }
  });

  offerRestore(data, key, form, view, fields, status, changed);
  window.nashirEditor = { view, blocks: current };
}

/// «استعادة»: the newest working copy (the server's autosave, or this browser's) when it
/// differs from what the page shows.
function offerRestore(data, key, form, view, fields, status, changed) {
  let local = null;
  try { local = JSON.parse(localStorage.getItem(key) || 'null'); } catch { local = null; }
  const shown = JSON.stringify(fields());
  const candidates = [];
  if (data.autosave && data.autosave.fields) candidates.push({ at: data.autosave.saved_at * 1000, version: data.autosave.version, fields: data.autosave.fields, where: 'على الخادم' });
  if (local && local.fields && (!data.id || local.version === data.version)) candidates.push({ ...local, where: 'في هذا المتصفح' });
  const best = candidates.filter((c) => JSON.stringify(c.fields) !== shown).sort((a, b) => b.at - a.at)[0];
  if (!best) return;
  const when = new Date(best.at).toLocaleString('ar', { dateStyle: 'short', timeStyle: 'short' });
  const older = data.version && best.version && best.version !== data.version;
  const box = el('div', { class: 'notice', id: 'restore-offer', role: 'status' },
    el('p', null, `لديك نسخة محفوظة تلقائياً ${best.where} (${when}) لم تُحفظ في المقال.${older ? ' تنبيه: حُفظ المقال بعدها من شخص آخر؛ راجع الفرق قبل الحفظ.' : ''}`));
  const restore = el('button', { type: 'button', id: 'restore-button' }, 'استعادة');
  const dismiss = el('button', { type: 'button', class: 'secondary' }, 'تجاهل');
  restore.addEventListener('click', () => {
    for (const [name, value] of Object.entries(best.fields)) {
      if (name === 'body_json') {
        try {
          const doc = docFromBlocks(JSON.parse(value));
          view.dispatch(view.state.tr.replaceWith(0, view.state.doc.content.size, doc.content));
        } catch { /* a broken copy: keep the page's text */ }
        continue;
      }
      const field = form.elements[name];
      if (field && 'value' in field) field.value = value;
    }
    box.remove();
    changed();
  });
  dismiss.addEventListener('click', () => { box.remove(); try { localStorage.removeItem(key); } catch { /* nothing kept */ } });
  box.append(el('p', null, restore, ' ', dismiss));
  status.before(box);
}

/// Tags, entities and related articles the server finds for this article, one click to
/// accept a tag or pin a related article.
async function loadSuggestions(data, form, box, view, say) {
  if (!data.id || !data.suggestions_url) return;
  try {
    const r = await fetch(data.suggestions_url, { headers: { Accept: 'application/json' } });
    if (!r.ok) return;
    const s = await r.json();
    const tagsField = form.elements.tags;
    const have = () => (tagsField ? tagsField.value.split(/[,،]/).map((t) => t.trim()).filter(Boolean) : []);
    if (s.tags && s.tags.length && tagsField) {
      const list = el('ul', { id: 'suggested-tags' });
      for (const tag of s.tags) {
        if (have().includes(tag)) continue;
        const b = el('button', { type: 'button', class: 'secondary', dir: 'auto' }, `+ ${tag}`);
        b.addEventListener('click', () => {
          if (!have().includes(tag)) tagsField.value = [...have(), tag].join('، ');
          tagsField.dispatchEvent(new Event('input', { bubbles: true }));
          b.closest('li').remove();
          say(`أُضيف الوسم «${tag}».`);
        });
        list.append(el('li', null, b));
      }
      box.append(el('p', null, 'وسوم مقترحة من الأسماء في النص:'), list);
    }
    if (s.related && s.related.length) {
      const list = el('ul', { id: 'suggested-related' });
      for (const a of s.related) {
        const b = el('button', { type: 'button', class: 'secondary' }, 'ثبّت');
        b.addEventListener('click', async () => {
          const body = new URLSearchParams({ csrf: form.elements.csrf.value, action: 'pin', target: String(a.id) });
          const resp = await fetch(`/admin/articles/${data.id}/related`, { method: 'POST', body });
          say(resp.ok ? `ثُبّت «${a.headline}» في «اقرأ أيضاً».` : 'تعذّر التثبيت.');
          if (resp.ok) b.disabled = true;
        });
        list.append(el('li', null, el('span', { dir: 'auto' }, a.headline), ' ', b));
      }
      box.append(el('p', null, 'مقالات ذات صلة:'), list);
    }
  } catch { /* aids are optional */ }
}

const form = document.getElementById('editor');
const textarea = document.getElementById('body');
if (form && textarea && !textarea.readOnly) mount(form, textarea);
