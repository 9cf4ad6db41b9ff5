//! JSON Lines: one article per line, `{"id", "title", "body", "category", "source",
//! "published_at"?, "author"?, "tags"?, "lead"?}` with the body's paragraphs joined by `\n`.
//! Body lines follow the plain-text rules (subheadings, quotes, «اقرأ أيضاً»).

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::plaintext;
use super::record::{parse_date, Entry, Record};
use crate::domain::{ArticleDraft, Block, Headline, Slug, Status};

#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, alias = "section")]
    category: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default, alias = "date")]
    published_at: Option<String>,
    #[serde(default, alias = "authors")]
    author: Value,
    #[serde(default)]
    tags: Value,
    #[serde(default, alias = "abstract")]
    lead: Option<String>,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// Section names for the common English category labels, so that an Arabic site does not
/// show «middleEast» in its navigation. Other labels are kept as written.
const CATEGORY_NAMES: &[(&str, &str)] = &[
    ("sport", "رياضة"),
    ("sports", "رياضة"),
    ("economy", "اقتصاد"),
    ("business", "اقتصاد"),
    ("culture", "ثقافة"),
    ("technology", "تكنولوجيا"),
    ("tech", "تكنولوجيا"),
    ("middleeast", "الشرق الأوسط"),
    ("internationalnews", "العالم"),
    ("world", "العالم"),
    ("politics", "سياسة"),
    ("health", "صحة"),
    ("science", "علوم"),
];

pub fn section_name(category: &str) -> String {
    let key = category.trim().to_lowercase().replace(['_', '-', ' '], "");
    CATEGORY_NAMES.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()).unwrap_or_else(|| category.trim().to_string())
}

/// Records of a JSON Lines stream; a malformed line fails alone, with its number.
pub fn records(reader: impl BufRead) -> impl Iterator<Item = Record> {
    records_capped(reader, crate::config::ImportConfig::default().max_jsonl_line_bytes)
}

/// `records` with lines of at most `max_line` bytes: a longer line is not held in memory (the
/// rest of it is skipped as it is read) and fails alone, with its number.
pub fn records_capped(mut reader: impl BufRead, max_line: usize) -> impl Iterator<Item = Record> {
    let mut line_no = 0u64;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        buf.clear();
        line_no += 1;
        match read_line_capped(&mut reader, &mut buf, max_line) {
            Ok(LineRead::Eof) => return None,
            Ok(LineRead::Line) => {}
            Ok(LineRead::TooLong(len)) => {
                return Some(Record::Failed {
                    what: format!("line {line_no}"),
                    reason: format!("line of {len} bytes is longer than {max_line} bytes (import.max_jsonl_line_bytes); skipped"),
                })
            }
            Err(e) => {
                done = true;
                return Some(Record::Failed { what: format!("line {line_no}"), reason: format!("cannot read: {e}") });
            }
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Some(parse_line(&buf, line_no));
    })
}

enum LineRead {
    Eof,
    Line,
    /// Longer than the cap: its length, nothing kept.
    TooLong(u64),
}

/// `read_until(b'\n')` that stops keeping bytes past `max` and reads on to the line's end.
fn read_line_capped(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<LineRead> {
    let mut len = 0u64;
    let mut too_long = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let (take, ends) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        len += take as u64;
        if !too_long && buf.len() + take > max {
            too_long = true;
            buf.clear();
        }
        if !too_long {
            buf.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        if ends {
            break;
        }
    }
    Ok(match (len, too_long) {
        (0, _) => LineRead::Eof,
        (len, true) => LineRead::TooLong(len),
        _ => LineRead::Line,
    })
}

fn parse_line(bytes: &[u8], line_no: u64) -> Record {
    let fail = |reason: String| Record::Failed { what: format!("line {line_no}"), reason };
    let line: Line = match serde_json::from_slice(bytes) {
        Ok(line) => line,
        Err(e) => return fail(format!("malformed JSON at column {}: {e}", e.column())),
    };
    let id = match &line.id {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => crate::store::short_hash(&format!("{:?}{:?}", line.title, line.body)),
    };
    match to_entry(line, &id) {
        Ok(entry) => Record::Entry(Box::new(entry)),
        Err(reason) => Record::Failed { what: format!("line {line_no} ({id})"), reason },
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s.split([',', '،']).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Object(o) => o.get("name").and_then(Value::as_str).map(|s| s.trim().to_string()),
                _ => None,
            })
            .filter(|t| !t.is_empty())
            .collect(),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(|s| vec![s.trim().to_string()]).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn to_entry(line: Line, id: &str) -> Result<Entry, String> {
    let title = line.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).ok_or("no title")?;
    let body = line.body.as_deref().unwrap_or_default();
    // The plain-text parser expects the headline first; it also drops a repeated headline.
    let mut text = String::with_capacity(title.len() + body.len() + 1);
    text.push_str(&title.replace('\n', " "));
    text.push('\n');
    text.push_str(body);
    let parsed = match plaintext::parse(&text, &|_, _| false) {
        Ok(parsed) => parsed,
        // A breaking-news brief whose body only repeats the headline is still news: the
        // headline becomes its lead too.
        Err(plaintext::TextError::NoBody) if !body.trim().is_empty() => plaintext::ParsedText {
            headline: Headline::parse(title).map_err(|e| e.to_string())?,
            lead: crate::domain::collapse_whitespace(body),
            body: Vec::new(),
            removed_trailing: Vec::new(),
            trailing_keys: Vec::new(),
        },
        Err(e) => return Err(e.to_string()),
    };
    let mut draft = ArticleDraft::new(Headline::parse(parsed.headline.as_str()).map_err(|e| e.to_string())?);
    draft.body = parsed.body;
    match line.lead.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(lead) => {
            draft.lead = crate::domain::collapse_whitespace(lead);
            if !parsed.lead.is_empty() {
                draft.body.insert(0, Block::paragraph(parsed.lead));
            }
        }
        None => draft.lead = parsed.lead,
    }
    draft.section = line.category.as_deref().filter(|c| !c.trim().is_empty()).map(section_name);
    draft.authors = strings(&line.author);
    draft.tags = strings(&line.tags);
    draft.published_at = line.published_at.as_deref().and_then(|d| parse_date(d, chrono_tz::UTC)).or_else(|| date_in_id(id));
    draft.status = match line.status.as_deref() {
        Some("draft") => Status::Draft,
        Some("scheduled") => Status::Scheduled,
        _ => Status::Published,
    };
    draft.source = line.source.filter(|s| !s.trim().is_empty());
    draft.slug = line.slug.as_deref().and_then(|s| Slug::parse(s).ok());
    draft.source_key = Some(format!("jsonl:{id}"));
    Ok(Entry { draft, old_paths: Vec::new() })
}

/// Ids that end in a date (`SK-sport-1-20180218`, as news archives number their files) date
/// an article that has no `published_at`.
fn date_in_id(id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let tail = id.rsplit(['-', '_']).next()?;
    if tail.len() != 8 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(tail, "%Y%m%d").ok()?;
    Some(date.and_hms_opt(12, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(input: &str) -> Vec<Record> {
        records(input.as_bytes()).collect()
    }

    #[test]
    fn corpus_line() {
        let line = r#"{"id": "SK-sport-1-20180218", "title": "فوز كبير للفريق", "body": "سجل الفريق ثلاثة أهداف في المباراة.\nالشوط الثاني\nوفي الشوط الثاني تابع الفريق هجومه حتى النهاية.\nاقرأ أيضاً: الفريق يتأهل", "category": "sport", "source": "SkyNews"}"#;
        let records = entries(line);
        let Record::Entry(e) = &records[0] else { panic!("{records:?}") };
        assert_eq!(e.draft.headline.as_str(), "فوز كبير للفريق");
        assert_eq!(e.draft.lead, "سجل الفريق ثلاثة أهداف في المباراة.");
        assert_eq!(e.draft.body[0], Block::Subheading { text: "الشوط الثاني".into() });
        assert_eq!(e.draft.body[2], Block::ReadAlso { title: "الفريق يتأهل".into() });
        assert_eq!(e.draft.section.as_deref(), Some("رياضة"));
        assert_eq!(e.draft.source_key.as_deref(), Some("jsonl:SK-sport-1-20180218"));
        assert_eq!(e.draft.published_at.unwrap().to_rfc3339(), "2018-02-18T12:00:00+00:00");
    }

    #[test]
    fn bad_lines_fail_alone_with_their_number() {
        let input = "{\"id\":1,\"title\":\"أ\",\"body\":\"نص الخبر.\"}\n\n{\"id\":2,\"title\":\n{\"id\":3,\"title\":\"ج\",\"body\":\"نص.\",\"tags\":[\"x\",\"y\"],\"author\":\"سارة\",\"lead\":\"مقدمة\"}\n{\"id\":4}\n";
        let records = entries(input);
        assert_eq!(records.len(), 4);
        assert!(matches!(&records[1], Record::Failed { what, .. } if what == "line 3"));
        let Record::Entry(e) = &records[2] else { panic!() };
        assert_eq!(e.draft.tags, vec!["x", "y"]);
        assert_eq!(e.draft.authors, vec!["سارة"]);
        assert_eq!(e.draft.lead, "مقدمة");
        assert_eq!(e.draft.body, vec![Block::paragraph("نص.")]);
        assert!(matches!(&records[3], Record::Failed { reason, .. } if reason == "no title"));
    }

    #[test]
    fn an_overlong_line_fails_alone_and_is_not_kept() {
        let long = format!("{{\"id\":2,\"title\":\"ب\",\"body\":\"{}\"}}", "x".repeat(5000));
        let input = format!("{{\"id\":1,\"title\":\"أ\",\"body\":\"نص.\"}}\n{long}\n{{\"id\":3,\"title\":\"ج\",\"body\":\"نص.\"}}");
        let records: Vec<Record> = records_capped(std::io::BufReader::with_capacity(64, input.as_bytes()), 1000).collect();
        assert_eq!(records.len(), 3);
        assert!(matches!(&records[0], Record::Entry(_)));
        assert!(
            matches!(&records[1], Record::Failed { what, reason } if what == "line 2" && reason.contains("longer than 1000")),
            "{records:?}"
        );
        assert!(matches!(&records[2], Record::Entry(e) if e.draft.headline.as_str() == "ج"));
    }

    #[test]
    fn a_body_that_repeats_the_headline_is_a_brief() {
        let records = entries("{\"id\":\"b\",\"title\":\"انفجار في الميناء\",\"body\":\"انفجار في الميناء\"}\n{\"id\":\"c\",\"title\":\"عنوان\",\"body\":\"\"}");
        let Record::Entry(e) = &records[0] else { panic!("{records:?}") };
        assert_eq!(e.draft.lead, "انفجار في الميناء");
        assert!(matches!(&records[1], Record::Failed { .. }));
    }
}
