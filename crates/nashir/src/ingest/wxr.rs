//! WordPress eXtended RSS (WXR), read as a stream: memory stays flat whatever the size of the
//! export, apart from a map of attachment id → URL for featured images.
//!
//! Element names are matched by their usual prefixes (`wp:`, `dc:`, `content:`, `excerpt:`),
//! which every WordPress version writes.

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::html;
use super::record::{parse_date, Entry, ParseOptions, Record};
use crate::domain::{ArticleDraft, Block, Headline, Slug, Status};

/// A `BufRead` that knows the line and column of what the XML reader has consumed, for
/// error messages that point into a gigabyte file.
struct LineCounter<R> {
    inner: R,
    line: u64,
    column: u64,
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let consumed = &buf[..amt.min(buf.len())];
            match consumed.iter().rposition(|&b| b == b'\n') {
                Some(last) => {
                    self.line += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
                    self.column = (consumed.len() - last - 1) as u64;
                }
                None => self.column += consumed.len() as u64,
            }
        }
        self.inner.consume(amt);
    }
}

#[derive(Debug, Default)]
struct Item {
    title: String,
    link: String,
    pub_date: String,
    creator: String,
    content: String,
    excerpt: String,
    post_id: String,
    post_date: String,
    post_date_gmt: String,
    post_name: String,
    status: String,
    post_type: String,
    attachment_url: String,
    section: Option<String>,
    tags: Vec<String>,
    thumbnail_id: Option<String>,
    // Fields of the <category> or <wp:postmeta> being read.
    category_domain: String,
    category_nicename: String,
    meta_key: String,
}

/// A post waiting for its featured image's attachment, which exports often list later.
struct Pending {
    entry: Entry,
    thumbnail_id: String,
    item_index: u64,
}

/// How many posts may wait for a later attachment before they go without it.
const MAX_PENDING: usize = 2_000;
/// How many items later an attachment may come before a waiting post goes without it.
const MAX_WAIT_ITEMS: u64 = 5_000;

struct Parser<R: BufRead> {
    reader: Reader<LineCounter<R>>,
    buf: Vec<u8>,
    options: ParseOptions,
    /// `wp:author_login` → display name.
    authors: HashMap<String, String>,
    attachments: HashMap<String, String>,
    site_link: String,
    site_host: String,
    path: Vec<Vec<u8>>,
    text: String,
    item: Option<Item>,
    author_login: String,
    author_name: String,
    items_seen: u64,
    pending: VecDeque<Pending>,
    out: VecDeque<Record>,
    finished: bool,
}

pub fn records(reader: impl BufRead, options: ParseOptions) -> impl Iterator<Item = Record> {
    let mut xml = Reader::from_reader(LineCounter { inner: reader, line: 1, column: 0 });
    xml.config_mut().trim_text(false);
    xml.config_mut().check_end_names = true;
    let mut parser = Parser {
        reader: xml,
        buf: Vec::with_capacity(64 * 1024),
        options,
        authors: HashMap::new(),
        attachments: HashMap::new(),
        site_link: String::new(),
        site_host: String::new(),
        path: Vec::new(),
        text: String::new(),
        item: None,
        author_login: String::new(),
        author_name: String::new(),
        items_seen: 0,
        pending: VecDeque::new(),
        out: VecDeque::new(),
        finished: false,
    };
    std::iter::from_fn(move || parser.next_record())
}

fn local_attr(e: &BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

impl<R: BufRead> Parser<R> {
    fn next_record(&mut self) -> Option<Record> {
        loop {
            if let Some(record) = self.out.pop_front() {
                return Some(record);
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }

    fn fail_at(&mut self, message: String) {
        let counter = self.reader.get_ref();
        let (line, column) = (counter.line, counter.column + 1);
        self.flush_pending();
        self.out.push_back(Record::Failed {
            what: format!("line {line}, column {column}"),
            reason: format!("malformed XML: {message}; everything before this point was imported"),
        });
        self.finished = true;
    }

    fn step(&mut self) {
        self.buf.clear();
        let event = match self.reader.read_event_into(&mut self.buf) {
            Ok(event) => event.into_owned(),
            Err(e) => return self.fail_at(e.to_string()),
        };
        match event {
            Event::Start(e) => {
                let name = e.name().as_ref().to_vec();
                self.start(&name, &e);
                self.path.push(name);
                self.text.clear();
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_vec();
                self.start(&name, &e);
                self.text.clear();
                self.end(&name);
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_vec();
                self.end(&name);
                self.path.pop();
                self.text.clear();
            }
            // HTML entities (`&nbsp;`) in unwrapped text are not XML; keep them for the HTML reader.
            Event::Text(t) => match t.unescape() {
                Ok(s) => self.text.push_str(&s),
                Err(_) => self.text.push_str(&String::from_utf8_lossy(&t)),
            },
            Event::CData(c) => self.text.push_str(&String::from_utf8_lossy(&c)),
            Event::Eof => {
                if !self.path.is_empty() {
                    let open = String::from_utf8_lossy(self.path.last().map(Vec::as_slice).unwrap_or_default()).into_owned();
                    return self.fail_at(format!("the file ends inside <{open}> (truncated?)"));
                }
                self.flush_pending();
                self.finished = true;
            }
            _ => {}
        }
    }

    fn start(&mut self, name: &[u8], e: &BytesStart<'_>) {
        match name {
            b"item" => {
                self.item = Some(Item::default());
            }
            b"category" => {
                if let Some(item) = self.item.as_mut() {
                    item.category_domain = local_attr(e, b"domain");
                    item.category_nicename = local_attr(e, b"nicename");
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, name: &[u8]) {
        let text = std::mem::take(&mut self.text);
        let parent = self.path.iter().rev().nth(1).map(Vec::as_slice);
        let Some(item) = self.item.as_mut() else {
            match name {
                b"wp:author_login" => self.author_login = text.trim().to_string(),
                b"wp:author_display_name" => self.author_name = text.trim().to_string(),
                b"wp:author" => {
                    let login = std::mem::take(&mut self.author_login);
                    let display = std::mem::take(&mut self.author_name);
                    if !login.is_empty() {
                        self.authors.insert(login.clone(), if display.is_empty() { login } else { display });
                    }
                }
                b"link" if parent == Some(b"channel") => self.set_site(text.trim()),
                b"wp:base_blog_url" if self.site_link.is_empty() => self.set_site(text.trim()),
                _ => {}
            }
            return;
        };
        match name {
            b"title" => item.title = text,
            b"link" => item.link = text.trim().to_string(),
            b"pubDate" => item.pub_date = text,
            b"dc:creator" => item.creator = text.trim().to_string(),
            b"content:encoded" => item.content = text,
            b"excerpt:encoded" => item.excerpt = text,
            b"wp:post_id" => item.post_id = text.trim().to_string(),
            b"wp:post_date" => item.post_date = text,
            b"wp:post_date_gmt" => item.post_date_gmt = text,
            b"wp:post_name" => item.post_name = text.trim().to_string(),
            b"wp:status" => item.status = text.trim().to_string(),
            b"wp:post_type" => item.post_type = text.trim().to_string(),
            b"wp:attachment_url" => item.attachment_url = text.trim().to_string(),
            b"wp:meta_key" => item.meta_key = text.trim().to_string(),
            b"wp:meta_value" if item.meta_key == "_thumbnail_id" => {
                item.thumbnail_id = Some(text.trim().to_string()).filter(|t| !t.is_empty());
            }
            b"category" => {
                let name = crate::domain::collapse_whitespace(&text);
                let domain = std::mem::take(&mut item.category_domain);
                let nicename = std::mem::take(&mut item.category_nicename);
                if name.is_empty() {
                    return;
                }
                match domain.as_str() {
                    "category" if item.section.is_none() && nicename != "uncategorized" && name != "Uncategorized" => {
                        item.section = Some(name);
                    }
                    "post_tag" if !item.tags.contains(&name) => item.tags.push(name),
                    _ => {}
                }
            }
            b"item" => {
                if let Some(item) = self.item.take() {
                    self.finish_item(item);
                }
            }
            _ => {}
        }
    }

    fn set_site(&mut self, link: &str) {
        self.site_link = link.trim_end_matches('/').to_string();
        let without_scheme = link.split_once("://").map(|(_, rest)| rest).unwrap_or(link);
        self.site_host = without_scheme.split('/').next().unwrap_or_default().to_string();
    }

    fn finish_item(&mut self, item: Item) {
        self.items_seen += 1;
        let what = format!("post {} «{}»", item.post_id, item.title.trim().chars().take(60).collect::<String>());
        if item.post_type == "attachment" && !item.attachment_url.is_empty() {
            self.attachments.insert(item.post_id.clone(), item.attachment_url.clone());
            self.resolve_pending(&item.post_id, &item.attachment_url);
        }
        let wanted = match item.post_type.as_str() {
            "post" | "" => true,
            "page" | "attachment" => self.options.include_pages,
            _ => false,
        };
        if !wanted {
            let reason = match item.post_type.as_str() {
                "page" | "attachment" => format!("WordPress {} (use --include-pages)", item.post_type),
                other => format!("WordPress post type «{}»", other.chars().take(40).collect::<String>()),
            };
            self.out.push_back(Record::Skipped { what, reason });
            return self.expire_pending();
        }
        let status = match item.status.as_str() {
            "publish" => Status::Published,
            "future" => Status::Scheduled,
            "draft" | "pending" | "private" | "" => Status::Draft,
            "inherit" if item.post_type == "attachment" => Status::Published,
            other => {
                let reason = format!("status «{}»", other.chars().take(40).collect::<String>());
                self.out.push_back(Record::Skipped { what, reason });
                return self.expire_pending();
            }
        };
        match self.to_entry(item, status) {
            Ok((entry, Some(thumbnail_id))) => match self.attachments.get(&thumbnail_id) {
                Some(url) => {
                    let mut entry = entry;
                    add_featured(&mut entry, url);
                    self.out.push_back(Record::Entry(Box::new(entry)));
                }
                None => self.pending.push_back(Pending { entry, thumbnail_id, item_index: self.items_seen }),
            },
            Ok((entry, None)) => self.out.push_back(Record::Entry(Box::new(entry))),
            Err(reason) => self.out.push_back(Record::Failed { what, reason }),
        }
        self.expire_pending();
    }

    fn resolve_pending(&mut self, attachment_id: &str, url: &str) {
        let mut still = VecDeque::with_capacity(self.pending.len());
        for mut p in self.pending.drain(..) {
            if p.thumbnail_id == attachment_id {
                add_featured(&mut p.entry, url);
                self.out.push_back(Record::Entry(Box::new(p.entry)));
            } else {
                still.push_back(p);
            }
        }
        self.pending = still;
    }

    /// Lets waiting posts go without their image once it is unlikely to come.
    fn expire_pending(&mut self) {
        while self.pending.front().is_some_and(|p| self.pending.len() > MAX_PENDING || self.items_seen - p.item_index > MAX_WAIT_ITEMS) {
            if let Some(p) = self.pending.pop_front() {
                self.out.push_back(Record::Entry(Box::new(p.entry)));
            }
        }
    }

    fn flush_pending(&mut self) {
        while let Some(p) = self.pending.pop_front() {
            self.out.push_back(Record::Entry(Box::new(p.entry)));
        }
    }

    fn to_entry(&self, item: Item, status: Status) -> Result<(Entry, Option<String>), String> {
        let title = if item.title.trim().is_empty() { html::to_text(&item.excerpt) } else { item.title.clone() };
        let title: String = title.chars().take(300).collect();
        let headline = Headline::parse(&title).map_err(|_| "no title".to_string())?;
        let mut body = html::to_blocks(&item.content);
        if item.post_type == "attachment" {
            if let Some(src) = html::safe_src(&item.attachment_url) {
                body.insert(0, Block::Image { src, alt: title.clone(), caption: None, credit: None });
            }
        }
        let mut lead = html::to_text(&item.excerpt);
        if lead.is_empty() {
            if let Some(Block::Paragraph { text, .. }) = body.first() {
                lead = text.clone();
                body.remove(0);
            }
        }
        if lead.is_empty() && body.is_empty() && status == Status::Published {
            return Err("empty post: no text and no excerpt".into());
        }
        let mut draft = ArticleDraft::new(headline);
        draft.lead = lead;
        draft.body = body;
        draft.status = status;
        draft.published_at = parse_date(&item.post_date_gmt, chrono_tz::UTC)
            .or_else(|| parse_date(&item.post_date, self.options.timezone))
            .or_else(|| parse_date(&item.pub_date, chrono_tz::UTC));
        draft.section = item.section;
        draft.tags = item.tags;
        if !item.creator.is_empty() {
            draft.authors = vec![self.authors.get(&item.creator).cloned().unwrap_or(item.creator)];
        }
        let decoded = percent_encoding::percent_decode_str(&item.post_name).decode_utf8_lossy().into_owned();
        draft.slug = Slug::parse(&decoded).ok().or_else(|| Slug::parse(&arabic::slugify(&decoded)).ok());
        draft.source = Some(if self.site_host.is_empty() { "WordPress".to_string() } else { self.site_host.clone() });
        let id = if item.post_id.is_empty() { crate::store::short_hash(&format!("{}{}", item.title, item.link)) } else { item.post_id };
        draft.source_key = Some(if self.site_host.is_empty() { format!("wxr:{id}") } else { format!("wxr:{}:{id}", self.site_host) });
        let mut old_paths = Vec::new();
        if let Some(path) = site_path(&item.link) {
            old_paths.push(path);
        }
        if id.bytes().all(|b| b.is_ascii_digit()) {
            old_paths.push(format!("/?p={id}"));
        }
        Ok((Entry { draft, old_paths }, item.thumbnail_id))
    }
}

/// The featured image goes first: our articles have no separate place for it.
fn add_featured(entry: &mut Entry, url: &str) {
    let already = entry.draft.body.iter().any(|b| matches!(b, Block::Image { src, .. } if src == url));
    if already {
        return;
    }
    if let Some(src) = html::safe_src(url) {
        entry.draft.body.insert(0, Block::Image { src, alt: entry.draft.headline.as_str().to_string(), caption: None, credit: None });
    }
}

/// The path (and query) of an absolute or relative link: `https://site/2021/12/03/x/` →
/// `/2021/12/03/x/`. None for the site root.
pub fn site_path(link: &str) -> Option<String> {
    let link = link.trim();
    let rest = match link.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/').unwrap_or(rest.len())..],
        None => link,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    (rest.len() > 1 && rest.starts_with('/')).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_links() {
        assert_eq!(site_path("https://ex.org/2021/12/03/slug/").as_deref(), Some("/2021/12/03/slug/"));
        assert_eq!(site_path("https://ex.org/?p=12").as_deref(), Some("/?p=12"));
        assert_eq!(site_path("https://ex.org"), None);
        assert_eq!(site_path("https://ex.org/"), None);
    }

    #[test]
    fn malformed_xml_reports_line_and_keeps_earlier_posts() {
        let xml = "<?xml version=\"1.0\"?>\n<rss><channel>\n<item><title>خبر</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type><wp:status>publish</wp:status><content:encoded><![CDATA[<p>نص</p>]]></content:encoded></item>\n<item><title>x</title></wrong>\n</channel></rss>";
        let records: Vec<Record> = records(xml.as_bytes(), ParseOptions::default()).collect();
        assert!(matches!(&records[0], Record::Entry(_)), "{records:?}");
        match &records[1] {
            Record::Failed { what, .. } => assert!(what.starts_with("line 4"), "{what}"),
            other => panic!("{other:?}"),
        }
    }
}
