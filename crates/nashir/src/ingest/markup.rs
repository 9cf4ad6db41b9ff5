//! The editor's body markup: blocks separated by blank lines; `## ` a subheading, `> ` a
//! quote (optionally after an `intro:` line), `![alt](src)` an image (a following line is
//! its caption), «اقرأ أيضاً: …» a reference, anything else a paragraph. Every block is
//! plain text: nothing written here is ever emitted as HTML.

use super::plaintext::{image_line, read_also_title};
use crate::domain::{collapse_whitespace, Block};

pub fn parse(markup: &str) -> Vec<Block> {
    let text = markup.replace("\r\n", "\n").replace('\r', "\n");
    parse_normalized(&text)
}

/// Above this many bytes, `parse_off_worker` moves the parse to the blocking pool.
const BIG_MARKUP_BYTES: usize = 64 * 1024;

/// `parse` for request handlers: a big body is parsed on the blocking pool, so a large save
/// never holds one of the few async workers (where the request timeout cannot stop it).
/// Fails only when the runtime is shutting down; a panic in the parser is passed on.
pub async fn parse_off_worker(markup: &str) -> anyhow::Result<Vec<Block>> {
    if markup.len() <= BIG_MARKUP_BYTES {
        return Ok(parse(markup));
    }
    let owned = markup.to_string();
    match tokio::task::spawn_blocking(move || parse(&owned)).await {
        Ok(blocks) => Ok(blocks),
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => Err(anyhow::anyhow!("body parse cancelled: {e}")),
        },
    }
}

fn parse_normalized(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for chunk in text.split("\n\n") {
        let lines: Vec<&str> = chunk.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        blocks.push(parse_block(&lines));
    }
    blocks
}

fn quote_text(lines: &[&str]) -> Option<String> {
    let parts: Option<Vec<&str>> = lines.iter().map(|l| l.strip_prefix('>').map(str::trim)).collect();
    parts.map(|p| collapse_whitespace(&p.join(" "))).filter(|t| !t.is_empty())
}

fn parse_block(lines: &[&str]) -> Block {
    let first = lines[0];
    if let Some(text) = first.strip_prefix("##") {
        // One join (linear): folding with `format!` copied the text so far for every line,
        // quadratic in a subheading of many lines.
        let text = collapse_whitespace(&std::iter::once(text).chain(lines[1..].iter().copied()).collect::<Vec<_>>().join(" "));
        if !text.is_empty() {
            return Block::Subheading { text };
        }
    }
    if let Some(text) = quote_text(lines) {
        return Block::quote(text, None);
    }
    if lines.len() > 1 && first.ends_with(':') && !first.starts_with('>') {
        if let Some(text) = quote_text(&lines[1..]) {
            let intro = collapse_whitespace(first.trim_end_matches(':'));
            return Block::quote(text, (!intro.is_empty()).then_some(intro));
        }
    }
    if let Some(Block::Image { src, alt, .. }) = image_line(first) {
        let caption = collapse_whitespace(&lines[1..].join(" "));
        return Block::Image { src, alt, caption: (!caption.is_empty()).then_some(caption), credit: None };
    }
    let joined = collapse_whitespace(&lines.join(" "));
    if lines.len() == 1 {
        if let Some(title) = read_also_title(&joined) {
            return Block::ReadAlso { title };
        }
    }
    Block::paragraph(joined)
}

/// The markup that parses back to these blocks, for editing a stored article.
pub fn serialize(blocks: &[Block]) -> String {
    let parts: Vec<String> = blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph { text, .. } => text.clone(),
            Block::Subheading { text } => format!("## {text}"),
            Block::Quote { text, intro: None, .. } => format!("> {text}"),
            Block::Quote { text, intro: Some(intro), .. } => format!("{intro}:\n> {text}"),
            Block::ReadAlso { title } => format!("اقرأ أيضاً: {title}"),
            Block::Image { src, alt, caption, .. } => match caption {
                Some(c) => format!("![{alt}]({src})\n{c}"),
                None => format!("![{alt}]({src})"),
            },
            Block::List { items, .. } => items.iter().map(|i| format!("- {}", i.text)).collect::<Vec<_>>().join("\n"),
        })
        .collect();
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_kind() {
        let blocks = parse(
            "فقرة أولى\nتكمل هنا.\n\n## عنوان فرعي\n\n> اقتباس طويل\n> يكمل\n\nوقال الوزير:\n> نص التصريح\n\n![صورة](/media/a.jpg)\nتعليق الصورة\n\nاقرأ أيضاً: خبر آخر",
        );
        assert_eq!(
            blocks,
            vec![
                Block::paragraph("فقرة أولى تكمل هنا."),
                Block::Subheading { text: "عنوان فرعي".into() },
                Block::quote("اقتباس طويل يكمل", None),
                Block::quote("نص التصريح", Some("وقال الوزير".into())),
                Block::Image {
                    src: "/media/a.jpg".into(), alt: "صورة".into(), caption: Some("تعليق الصورة".into()), credit: None
                },
                Block::ReadAlso { title: "خبر آخر".into() },
            ]
        );
        assert_eq!(parse(&serialize(&blocks)), blocks);
    }

    #[test]
    fn scripts_and_javascript_urls_stay_text() {
        let blocks = parse("<script>alert(1)</script>\n\n![x](javascript:alert(1))\n\n##\n\n>");
        assert!(blocks.iter().all(|b| matches!(b, Block::Paragraph { .. })), "{blocks:?}");
    }
}
