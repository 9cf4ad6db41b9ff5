// Blocks (the JSON the server stores and the API shows) to a ProseMirror document and back.
// Mark offsets count Unicode scalar values (Rust's `chars()`), not UTF-16 units: an emoji or
// a rare CJK character is one, as on the server.
import { Mark } from 'prosemirror-model';
import { schema } from './schema.js';

const MARK_ORDER = ['link', 'bold', 'italic'];

/// Text nodes for `text` with `marks` ({start, end, mark, href}); bad offsets are ignored
/// (the server normalises too).
function inline(text, marks) {
  const chars = Array.from(text || '');
  if (chars.length === 0) return [];
  const cuts = new Set([0, chars.length]);
  const valid = (marks || []).filter((m) => Number.isInteger(m.start) && Number.isInteger(m.end) && m.start >= 0 && m.start < m.end && m.end <= chars.length);
  for (const m of valid) { cuts.add(m.start); cuts.add(m.end); }
  const points = [...cuts].sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    const pm = [];
    for (const m of valid) {
      if (m.start <= from && to <= m.end) {
        if (m.mark === 'bold') pm.push(schema.marks.bold.create());
        else if (m.mark === 'italic') pm.push(schema.marks.italic.create());
        else if (m.mark === 'link' && m.href) pm.push(schema.marks.link.create({ href: m.href }));
      }
    }
    nodes.push(schema.text(chars.slice(from, to).join(''), Mark.setFrom(pm)));
  }
  return nodes;
}

function textblock(type, text, marks, attrs) {
  return schema.nodes[type].create(attrs || null, inline(text, marks));
}

export function docFromBlocks(blocks) {
  const nodes = [];
  for (const b of blocks || []) {
    switch (b.type) {
      case 'paragraph': nodes.push(textblock('paragraph', b.text, b.marks)); break;
      case 'subheading': nodes.push(schema.nodes.subheading.create(null, b.text ? [schema.text(b.text)] : [])); break;
      case 'quote': nodes.push(textblock('quote', b.text, b.marks, { intro: b.intro || '' })); break;
      case 'read_also': if (b.title) nodes.push(schema.nodes.read_also.create({ title: b.title })); break;
      case 'image': if (b.src) nodes.push(schema.nodes.image.create({ src: b.src, preview: b.preview || null, alt: b.alt || '', caption: b.caption || '', credit: b.credit || '', width: b.width || null, height: b.height || null })); break;
      case 'list': {
        const items = (b.items || []).map((it) => schema.nodes.list_item.create(null, textblock('paragraph', it.text, it.marks)));
        if (items.length) nodes.push(schema.nodes[b.ordered ? 'ordered_list' : 'bullet_list'].create(null, items));
        break;
      }
      default: break;
    }
  }
  if (nodes.length === 0) nodes.push(schema.nodes.paragraph.create());
  return schema.nodes.doc.create(null, nodes);
}

/// The text of a text block and its marks as runs: adjacent nodes with the same mark (for a
/// link, the same address) make one run.
function runs(node) {
  let text = '';
  let offset = 0;
  const open = new Map();
  const out = [];
  const close = (key) => { const m = open.get(key); open.delete(key); if (m.end > m.start) out.push(m); };
  node.forEach((child) => {
    const t = child.text || '';
    const len = Array.from(t).length;
    const here = new Map();
    for (const mark of child.marks) {
      const name = mark.type.name;
      const key = name === 'link' ? `link ${mark.attrs.href}` : name;
      here.set(key, name === 'link' ? { mark: 'link', href: mark.attrs.href } : { mark: name });
    }
    for (const key of [...open.keys()]) if (!here.has(key)) close(key);
    for (const [key, m] of here) if (!open.has(key)) open.set(key, { start: offset, end: offset, ...m });
    for (const key of here.keys()) open.get(key).end = offset + len;
    text += t;
    offset += len;
  });
  for (const key of [...open.keys()]) close(key);
  out.sort((a, b) => a.start - b.start || a.end - b.end || MARK_ORDER.indexOf(a.mark) - MARK_ORDER.indexOf(b.mark));
  return { text, marks: out.map(({ start, end, mark, href }) => (mark === 'link' ? { start, end, mark, href } : { start, end, mark })) };
}

/// Leading and trailing spaces are trimmed (the server collapses them too); marks follow.
function trimmed({ text, marks }) {
  const chars = Array.from(text);
  let from = 0;
  let to = chars.length;
  while (from < to && /\s/.test(chars[from])) from++;
  while (to > from && /\s/.test(chars[to - 1])) to--;
  const kept = marks
    .map((m) => ({ ...m, start: Math.max(m.start, from) - from, end: Math.min(m.end, to) - from }))
    .filter((m) => m.start < m.end);
  return { text: chars.slice(from, to).join(''), marks: kept };
}

function withMarks(block, r) {
  if (r.marks.length) block.marks = r.marks;
  return block;
}

/// The blocks of `doc`; `withPreview` keeps the address the editor shows each image at (for
/// working copies, which the editor loads back; the server's blocks never carry it).
export function blocksFromDoc(doc, withPreview = false) {
  const blocks = [];
  doc.forEach((node) => {
    switch (node.type.name) {
      case 'paragraph': {
        const r = trimmed(runs(node));
        if (r.text) blocks.push(withMarks({ type: 'paragraph', text: r.text }, r));
        break;
      }
      case 'subheading': {
        const text = node.textContent.trim();
        if (text) blocks.push({ type: 'subheading', text });
        break;
      }
      case 'quote': {
        const r = trimmed(runs(node));
        if (!r.text) break;
        const q = { type: 'quote', text: r.text };
        const intro = node.attrs.intro.trim();
        if (intro) q.intro = intro;
        blocks.push(withMarks(q, r));
        break;
      }
      case 'read_also': blocks.push({ type: 'read_also', title: node.attrs.title }); break;
      case 'image': {
        const img = { type: 'image', src: node.attrs.src, alt: node.attrs.alt.trim() };
        if (node.attrs.caption.trim()) img.caption = node.attrs.caption.trim();
        if (node.attrs.credit.trim()) img.credit = node.attrs.credit.trim();
        if (withPreview && node.attrs.preview) img.preview = node.attrs.preview;
        blocks.push(img);
        break;
      }
      case 'bullet_list':
      case 'ordered_list': {
        const items = [];
        node.forEach((li) => {
          const r = trimmed(runs(li.firstChild));
          if (r.text) items.push(withMarks({ text: r.text }, r));
        });
        if (items.length) blocks.push({ type: 'list', ordered: node.type.name === 'ordered_list', items });
        break;
      }
      default: break;
    }
  });
  return blocks;
}

/// Words and characters a reader sees, for the writing aids.
export function plainText(blocks) {
  return blocks
    .map((b) => (b.type === 'list' ? b.items.map((i) => i.text).join(' ') : b.type === 'read_also' ? '' : b.type === 'image' ? b.caption || '' : [b.intro, b.text].filter(Boolean).join(' ')))
    .join(' ');
}
