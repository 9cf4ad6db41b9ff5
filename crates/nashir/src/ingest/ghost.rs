//! Ghost JSON exports: `db[0].data` with posts, tags, users, posts_tags and posts_authors.
//! A post's body is its `html`, or its Lexical or Mobiledoc document rendered to minimal HTML
//! (paragraphs, headings, quotes, images) first; then it goes through the same HTML reader as
//! WordPress content. Exports are one JSON document, so this one is read whole, up to
//! `import.max_ghost_bytes` (256 MiB by default); larger exports are refused with a message.

use std::collections::HashMap;
use std::io::BufRead;

use serde_json::Value;

use super::html;
use super::record::{parse_date, Entry, ParseOptions, Record};
use crate::domain::{ArticleDraft, Block, Headline, Slug, Status};

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Ids are strings in Ghost 1+ and numbers in older exports.
fn id_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn array<'a>(data: &'a Value, key: &str) -> &'a [Value] {
    data.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

pub fn records(reader: impl BufRead, options: ParseOptions) -> impl Iterator<Item = Record> {
    // The export is one JSON document, parsed whole (its posts refer to tags and users listed
    // after them): refused above a stated size rather than read without bound.
    let mut bytes = Vec::new();
    let limit = options.max_ghost_bytes;
    if let Err(e) = std::io::Read::read_to_end(&mut std::io::Read::take(reader, limit.saturating_add(1)), &mut bytes) {
        return vec![Record::Failed { what: "export".into(), reason: format!("cannot read: {e}") }].into_iter();
    }
    if bytes.len() as u64 > limit {
        return vec![Record::Failed {
            what: "export".into(),
            reason: format!("Ghost export larger than {limit} bytes (import.max_ghost_bytes); refused: raise the setting to import it"),
        }]
        .into_iter();
    }
    let records = match serde_json::from_slice::<Value>(&bytes) {
        Ok(doc) => parse_export(&doc, &options),
        Err(e) => vec![Record::Failed {
            what: format!("line {}, column {}", e.line(), e.column()),
            reason: format!("malformed Ghost export JSON: {e}"),
        }],
    };
    records.into_iter()
}

fn parse_export(doc: &Value, options: &ParseOptions) -> Vec<Record> {
    let data = doc.pointer("/db/0/data").or_else(|| doc.get("data"));
    let Some(data) = data.filter(|d| d.is_object()) else {
        return vec![Record::Failed { what: "export".into(), reason: "no db[0].data in this JSON: not a Ghost export".into() }];
    };
    // Internal tags (`#hash`) organise Ghost's admin and never show to readers.
    let tags: HashMap<String, String> = array(data, "tags")
        .iter()
        .filter(|t| str_of(t, "visibility") != "internal" && !str_of(t, "name").starts_with('#'))
        .map(|t| (id_of(t, "id"), str_of(t, "name").trim().to_string()))
        .filter(|(_, name)| !name.is_empty())
        .collect();
    let users: HashMap<String, String> =
        array(data, "users").iter().map(|u| (id_of(u, "id"), str_of(u, "name").trim().to_string())).collect();
    let mut post_tags: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for pt in array(data, "posts_tags") {
        let order = pt.get("sort_order").and_then(Value::as_i64).unwrap_or(0);
        post_tags.entry(id_of(pt, "post_id")).or_default().push((order, id_of(pt, "tag_id")));
    }
    let mut post_authors: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for pa in array(data, "posts_authors") {
        let order = pa.get("sort_order").and_then(Value::as_i64).unwrap_or(0);
        post_authors.entry(id_of(pa, "post_id")).or_default().push((order, id_of(pa, "author_id")));
    }
    let mut out = Vec::new();
    for post in array(data, "posts") {
        let id = id_of(post, "id");
        let what = format!("post {id} «{}»", str_of(post, "title").chars().take(60).collect::<String>());
        let is_page = str_of(post, "type") == "page" || post.get("page").and_then(Value::as_bool).unwrap_or(false);
        if is_page && !options.include_pages {
            out.push(Record::Skipped { what, reason: "Ghost page (use --include-pages)".into() });
            continue;
        }
        let status = match str_of(post, "status") {
            "published" => Status::Published,
            "scheduled" => Status::Scheduled,
            "draft" | "" => Status::Draft,
            other => {
                out.push(Record::Skipped { what, reason: format!("status «{}»", other.chars().take(40).collect::<String>()) });
                continue;
            }
        };
        let mut tag_names: Vec<String> = sorted(post_tags.remove(&id)).iter().filter_map(|t| tags.get(t).cloned()).collect();
        tag_names.dedup();
        let mut author_names: Vec<String> =
            sorted(post_authors.remove(&id)).iter().filter_map(|a| users.get(a).cloned()).filter(|n| !n.is_empty()).collect();
        if author_names.is_empty() {
            if let Some(name) = users.get(&id_of(post, "author_id")).filter(|n| !n.is_empty()) {
                author_names.push(name.clone());
            }
        }
        match to_entry(post, &id, status, tag_names, author_names, options) {
            Ok(entry) => out.push(Record::Entry(Box::new(entry))),
            Err(reason) => out.push(Record::Failed { what, reason }),
        }
    }
    out
}

fn sorted(items: Option<Vec<(i64, String)>>) -> Vec<String> {
    let mut items = items.unwrap_or_default();
    items.sort_by_key(|(order, _)| *order);
    items.into_iter().map(|(_, id)| id).collect()
}

fn to_entry(
    post: &Value,
    id: &str,
    status: Status,
    mut tags: Vec<String>,
    authors: Vec<String>,
    options: &ParseOptions,
) -> Result<Entry, String> {
    let title: String = str_of(post, "title").chars().take(300).collect();
    let headline = Headline::parse(&title).map_err(|_| "no title".to_string())?;
    let html_source = match post.get("html").and_then(Value::as_str).filter(|h| !h.trim().is_empty()) {
        Some(h) => h.to_string(),
        None => render_document(post),
    };
    let html_source = html_source.replace("__GHOST_URL__", &options.site_url);
    let mut body = html::to_blocks(&html_source);
    let feature = str_of(post, "feature_image").replace("__GHOST_URL__", &options.site_url);
    if let Some(feature) = html::safe_src(&feature) {
        let alt = str_of(post, "feature_image_alt");
        let caption = html::to_text(str_of(post, "feature_image_caption"));
        body.insert(
            0,
            Block::Image {
                src: feature,
                alt: if alt.is_empty() { title.clone() } else { alt.to_string() },
                caption: (!caption.is_empty()).then_some(caption),
                credit: None,
            },
        );
    }
    let mut lead = crate::domain::collapse_whitespace(str_of(post, "custom_excerpt"));
    if lead.is_empty() {
        if let Some(pos) = body.iter().position(|b| !matches!(b, Block::Image { .. })) {
            if let Block::Paragraph { text, .. } = &body[pos] {
                lead = text.clone();
                body.remove(pos);
            }
        }
    }
    if lead.is_empty() && body.is_empty() && status == Status::Published {
        return Err("empty post: no text".into());
    }
    let mut draft = ArticleDraft::new(headline);
    draft.lead = lead;
    draft.body = body;
    draft.status = status;
    draft.published_at =
        parse_date(str_of(post, "published_at"), chrono_tz::UTC).or_else(|| parse_date(str_of(post, "created_at"), chrono_tz::UTC));
    // Ghost's primary tag (the first) is what a newsroom calls the section.
    if !tags.is_empty() {
        draft.section = Some(tags.remove(0));
    }
    draft.tags = tags;
    draft.authors = authors;
    let slug = percent_encoding::percent_decode_str(str_of(post, "slug")).decode_utf8_lossy().into_owned();
    draft.slug = Slug::parse(&slug).ok();
    draft.source = Some("Ghost".into());
    draft.source_key = Some(format!("ghost:{id}"));
    let old_paths = if slug.is_empty() { Vec::new() } else { vec![format!("/{slug}/")] };
    Ok(Entry { draft, old_paths })
}

fn escape(s: &str) -> String {
    crate::render::escape_html(s)
}

/// Minimal HTML of a post that has only its editor document.
fn render_document(post: &Value) -> String {
    if let Some(doc) = post.get("lexical").and_then(Value::as_str).and_then(|s| serde_json::from_str::<Value>(s).ok()) {
        let mut out = String::new();
        if let Some(children) = doc.pointer("/root/children").and_then(Value::as_array) {
            for node in children {
                render_lexical(node, &mut out, 0);
            }
        }
        return out;
    }
    if let Some(doc) = post.get("mobiledoc").and_then(Value::as_str).and_then(|s| serde_json::from_str::<Value>(s).ok()) {
        return render_mobiledoc(&doc);
    }
    post.get("plaintext").and_then(Value::as_str).map(|t| format!("<p>{}</p>", escape(t).replace("\n\n", "</p><p>"))).unwrap_or_default()
}

fn lexical_text(node: &Value, depth: usize) -> String {
    if depth > 64 {
        return String::new();
    }
    match node.get("type").and_then(Value::as_str) {
        Some("text") | Some("extended-text") => escape(str_of(node, "text")),
        Some("linebreak") => "<br>".into(),
        _ => node
            .get("children")
            .and_then(Value::as_array)
            .map(|c| c.iter().map(|n| lexical_text(n, depth + 1)).collect())
            .unwrap_or_default(),
    }
}

fn render_lexical(node: &Value, out: &mut String, depth: usize) {
    let inner = || lexical_text(node, depth + 1);
    match node.get("type").and_then(Value::as_str).unwrap_or_default() {
        "heading" | "extended-heading" => {
            let tag = match str_of(node, "tag") {
                t @ ("h2" | "h3" | "h4" | "h5" | "h6") => t,
                _ => "h2",
            };
            out.push_str(&format!("<{tag}>{}</{tag}>", inner()));
        }
        "quote" | "extended-quote" | "aside" => out.push_str(&format!("<blockquote>{}</blockquote>", inner())),
        "image" => out.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
            escape(str_of(node, "src")),
            escape(str_of(node, "alt").trim()),
            escape(&html::to_text(str_of(node, "caption")))
        )),
        "html" => out.push_str(str_of(node, "html")),
        "list" => {
            for item in node.get("children").and_then(Value::as_array).into_iter().flatten() {
                out.push_str(&format!("<p>{}</p>", lexical_text(item, depth + 1)));
            }
        }
        _ => out.push_str(&format!("<p>{}</p>", inner())),
    }
}

/// Mobiledoc 0.3: sections refer to markers (text runs) and cards (images, HTML, markdown).
fn render_mobiledoc(doc: &Value) -> String {
    let cards = doc.get("cards").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut out = String::new();
    let markers_text = |markers: &Value| -> String {
        markers.as_array().into_iter().flatten().filter_map(|m| m.get(3).and_then(Value::as_str)).map(escape).collect::<Vec<_>>().join("")
    };
    for section in doc.get("sections").and_then(Value::as_array).into_iter().flatten() {
        match section.get(0).and_then(Value::as_i64) {
            Some(1) => {
                let tag = match section.get(1).and_then(Value::as_str).unwrap_or("p").to_ascii_lowercase().as_str() {
                    t @ ("h1" | "h2" | "h3" | "h4" | "h5" | "h6") => t.to_string(),
                    "blockquote" | "aside" => "blockquote".to_string(),
                    _ => "p".to_string(),
                };
                out.push_str(&format!("<{tag}>{}</{tag}>", markers_text(section.get(2).unwrap_or(&Value::Null))));
            }
            Some(3) => {
                for item in section.get(2).and_then(Value::as_array).into_iter().flatten() {
                    out.push_str(&format!("<p>{}</p>", markers_text(item)));
                }
            }
            Some(10) => {
                let Some(card) = section.get(1).and_then(Value::as_u64).and_then(|i| cards.get(i as usize)) else { continue };
                let payload = card.get(1).unwrap_or(&Value::Null);
                match card.get(0).and_then(Value::as_str).unwrap_or_default() {
                    "image" => out.push_str(&format!(
                        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                        escape(str_of(payload, "src")),
                        escape(str_of(payload, "alt")),
                        escape(&html::to_text(str_of(payload, "caption")))
                    )),
                    "html" => out.push_str(str_of(payload, "html")),
                    "markdown" | "card-markdown" => {
                        for para in str_of(payload, "markdown").split("\n\n") {
                            out.push_str(&format!("<p>{}</p>", escape(para)));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_and_mobiledoc_render() {
        let lexical = r#"{"root":{"children":[{"type":"paragraph","children":[{"type":"text","text":"مقدمة <المقال>"}]},{"type":"heading","tag":"h3","children":[{"type":"text","text":"عنوان"}]},{"type":"quote","children":[{"type":"text","text":"قول"}]},{"type":"image","src":"__GHOST_URL__/content/images/a.jpg","alt":"صورة"}]}}"#;
        let post = serde_json::json!({"lexical": lexical});
        assert_eq!(
            html::to_blocks(&render_document(&post).replace("__GHOST_URL__", "https://ex.org")),
            vec![
                Block::paragraph("مقدمة <المقال>"),
                Block::Subheading { text: "عنوان".into() },
                Block::quote("قول", None),
                Block::Image { src: "https://ex.org/content/images/a.jpg".into(), alt: "صورة".into(), caption: None, credit: None },
            ]
        );
        let mobiledoc = r#"{"version":"0.3.1","markups":[],"atoms":[],"cards":[["image",{"src":"/img/b.png","caption":"شرح"}],["html",{"html":"<p>من بطاقة</p>"}]],"sections":[[1,"p",[[0,[],0,"فقرة"]]],[10,0],[1,"h2",[[0,[],0,"فرعي"]]],[10,1],[10,9]]}"#;
        let post = serde_json::json!({"mobiledoc": mobiledoc});
        assert_eq!(
            html::to_blocks(&render_document(&post)),
            vec![
                Block::paragraph("فقرة"),
                Block::Image { src: "/img/b.png".into(), alt: String::new(), caption: Some("شرح".into()), credit: None },
                Block::Subheading { text: "فرعي".into() },
                Block::paragraph("من بطاقة"),
            ]
        );
    }

    #[test]
    fn not_ghost() {
        let records: Vec<Record> = records(&b"{\"x\":1}"[..], ParseOptions::default()).collect();
        assert!(matches!(&records[0], Record::Failed { reason, .. } if reason.contains("db[0].data")));
        let records: Vec<Record> = records_of("{\"db\": [");
        assert!(matches!(&records[0], Record::Failed { what, .. } if what.starts_with("line 1")));
    }

    fn records_of(s: &str) -> Vec<Record> {
        records(s.as_bytes(), ParseOptions::default()).collect()
    }
}
