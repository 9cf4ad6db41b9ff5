// The editor's schema is the article model of `domain/article.rs`, node for block:
// paragraph (bold, italic, link marks), subheading, quote (+ its introducing sentence),
// image (alt, caption, credit), «اقرأ أيضاً» and lists (items are single runs of text with
// marks). Nothing the model cannot store can be typed, so what the writer sees is what is saved.
import { Schema } from 'prosemirror-model';

// Every text block reads its own direction from its first strong character: a Latin name or a
// number inside Arabic stays in place, and an English paragraph reads left to right.
const auto = { dir: 'auto' };

export const schema = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: {
      group: 'block',
      content: 'inline*',
      parseDOM: [{ tag: 'p' }],
      toDOM: () => ['p', auto, 0],
    },
    subheading: {
      group: 'block',
      content: 'text*',
      marks: '',
      defining: true,
      parseDOM: [{ tag: 'h2' }, { tag: 'h3' }, { tag: 'h4' }],
      toDOM: () => ['h2', auto, 0],
    },
    quote: {
      group: 'block',
      content: 'inline*',
      defining: true,
      attrs: { intro: { default: '' } },
      parseDOM: [{ tag: 'blockquote', getAttrs: (dom) => ({ intro: dom.getAttribute('data-intro') || '' }) }],
      toDOM: (node) => ['blockquote', { dir: 'auto', 'data-intro': node.attrs.intro }, 0],
    },
    image: {
      group: 'block',
      atom: true,
      draggable: true,
      selectable: true,
      attrs: { src: {}, preview: { default: null }, alt: { default: '' }, caption: { default: '' }, credit: { default: '' }, width: { default: null }, height: { default: null } },
      parseDOM: [{ tag: 'img[src]', getAttrs: (dom) => ({ src: dom.getAttribute('src'), alt: dom.getAttribute('alt') || '' }) }],
      toDOM: (node) => ['img', { src: node.attrs.src, alt: node.attrs.alt }],
    },
    read_also: {
      group: 'block',
      atom: true,
      selectable: true,
      attrs: { title: {} },
      toDOM: (node) => ['p', { class: 'pm-read-also', dir: 'auto' }, `اقرأ أيضاً: ${node.attrs.title}`],
    },
    bullet_list: {
      group: 'block',
      content: 'list_item+',
      parseDOM: [{ tag: 'ul' }],
      toDOM: () => ['ul', auto, 0],
    },
    ordered_list: {
      group: 'block',
      content: 'list_item+',
      parseDOM: [{ tag: 'ol' }],
      toDOM: () => ['ol', auto, 0],
    },
    // One paragraph per item: the model's ListItem is a single run of text with marks.
    list_item: {
      content: 'paragraph',
      defining: true,
      parseDOM: [{ tag: 'li' }],
      toDOM: () => ['li', 0],
    },
    text: { group: 'inline' },
  },
  marks: {
    link: {
      attrs: { href: {} },
      inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (dom) => ({ href: dom.getAttribute('href') }) }],
      toDOM: (mark) => ['a', { href: mark.attrs.href, rel: 'noopener', dir: 'auto' }, 0],
    },
    bold: {
      parseDOM: [{ tag: 'strong' }, { tag: 'b' }],
      toDOM: () => ['strong', 0],
    },
    italic: {
      parseDOM: [{ tag: 'em' }, { tag: 'i' }],
      toDOM: () => ['em', 0],
    },
  },
});

/// Links the server accepts: http(s) or a path on this site (`/news/…`), as `domain/link.rs`.
export function acceptableHref(raw) {
  const href = (raw || '').trim();
  if (!href || href.length > 2048 || /[\s"<>`\\]/.test(href)) return null;
  if (href.startsWith('/')) return href.startsWith('//') ? null : href;
  if (/^https?:\/\/[^/]/i.test(href)) return href;
  return null;
}
