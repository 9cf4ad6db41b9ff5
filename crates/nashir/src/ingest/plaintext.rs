//! Plain-text articles in the shape of a scraped Arabic news page: headline first (often
//! captured twice), one paragraph per line, short unpunctuated lines as subheadings,
//! «اقرأ أيضاً: …» lines, and the site's call to action at the end.

use crate::domain::link::image_src;
use crate::domain::{collapse_whitespace, Block, Headline};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TextError {
    #[error("الملف فارغ")]
    Empty,
    #[error("الملف ثنائي (binary) وليس نصاً")]
    Binary,
    #[error("الملف ليس بترميز UTF-8 (البايت {0})")]
    NotUtf8(usize),
    #[error("لا يوجد نص بعد العنوان")]
    NoBody,
    #[error("{0}")]
    BadHeadline(#[from] crate::domain::DomainError),
}

/// An article parsed from text, before sections, authors and dates are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedText {
    pub headline: Headline,
    pub lead: String,
    pub body: Vec<Block>,
    /// Lines removed from the end as boilerplate, for the import report.
    pub removed_trailing: Vec<String>,
    /// The article's last lines (normalized) before removal, for learning a site's recurring footer.
    pub trailing_keys: Vec<String>,
}

/// Checks that the bytes are a text file and returns them as text without BOM or CRs.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TextError::Empty);
    }
    if bytes.contains(&0) {
        return Err(TextError::Binary);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| TextError::NotUtf8(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.chars().filter(|c| c.is_control() && !c.is_whitespace()).count() > text.len() / 100 + 2 {
        return Err(TextError::Binary);
    }
    Ok(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Decides whether a trailing line is a site's boilerplate. `seen_elsewhere` tells how many
/// earlier imports ended with the same line.
pub type TrailingJudge<'a> = &'a dyn Fn(&str, &str) -> bool;

/// Parses the text. `is_boilerplate(original_line, normalized_key)` is consulted for the
/// article's last lines, bottom up, until a line is kept.
pub fn parse(text: &str, is_boilerplate: TrailingJudge<'_>) -> Result<ParsedText, TextError> {
    let mut lines: Vec<String> = text.lines().map(clean_line).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Err(TextError::Empty);
    }
    let headline = Headline::parse(&lines[0])?;
    let headline_key = crate::domain::title_key(headline.as_str());
    // Scrapers often capture the headline twice (page title and <h1>). One drain of the
    // leading lines: removing them one at a time shifted the whole rest each time, quadratic
    // in a file that repeats its headline many times.
    let repeats = lines[1..].iter().take_while(|l| crate::domain::title_key(l) == headline_key).count();
    lines.drain(..1 + repeats);

    let trailing_keys: Vec<String> = lines.iter().rev().take(3).map(|l| line_key(l)).collect();
    let mut removed_trailing = Vec::new();
    while let Some(last) = lines.last() {
        if lines.len() > 1 && (looks_like_call_to_action(last) || is_boilerplate(last, &line_key(last))) {
            removed_trailing.push(lines.pop().expect("checked non-empty"));
        } else {
            break;
        }
    }
    removed_trailing.reverse();

    if lines.is_empty() {
        return Err(TextError::NoBody);
    }
    let lead = if read_also_title(&lines[0]).is_none() && !is_subheading_at(&lines, 0) { lines.remove(0) } else { String::new() };

    let mut body = Vec::with_capacity(lines.len());
    for i in 0..lines.len() {
        let line = &lines[i];
        if let Some(title) = read_also_title(line) {
            body.push(Block::ReadAlso { title });
        } else if let Some(image) = image_line(line) {
            body.push(image);
        } else if is_subheading_at(&lines, i) {
            body.push(Block::Subheading { text: line.clone() });
        } else if let Some(quote) = quote_block(line) {
            body.push(quote);
        } else {
            body.push(Block::paragraph(line.clone()));
        }
    }
    if lead.is_empty() && body.iter().all(|b| !matches!(b, Block::Paragraph { .. } | Block::Quote { .. })) {
        return Err(TextError::NoBody);
    }
    Ok(ParsedText { headline, lead, body, removed_trailing, trailing_keys })
}

/// Trims a line and drops invisible direction marks scrapers leave at its ends.
fn clean_line(line: &str) -> String {
    let trimmed =
        line.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{feff}' | '\u{200b}'));
    collapse_whitespace(trimmed)
}

/// A line's identity for recurrence counting: its normalized words.
pub fn line_key(line: &str) -> String {
    crate::domain::title_key(line)
}

const SENTENCE_END: &[char] = &['.', '!', '?', '؟', ':', '؛', ';', '…', '»', '”', '"', ')', '،', ','];

/// A subheading is a short line without sentence-ending punctuation that introduces a
/// longer paragraph. Checking the next line keeps short closing sentences from qualifying.
fn is_subheading_at(lines: &[String], i: usize) -> bool {
    let line = &lines[i];
    if !is_short_title_like(line) {
        return false;
    }
    match lines.get(i + 1) {
        Some(next) => {
            read_also_title(next).is_none()
                && !is_short_title_like(next)
                && next.split_whitespace().count() > line.split_whitespace().count()
        }
        None => false,
    }
}

fn is_short_title_like(line: &str) -> bool {
    let words = line.split_whitespace().count();
    let last = line.chars().last().unwrap_or('.');
    (1..=12).contains(&words)
        && line.chars().count() <= 90
        && !SENTENCE_END.contains(&last)
        && !line.starts_with(['«', '“', '"', '-', '*', '•'])
        && read_also_title(line).is_none()
}

/// «اقرأ أيضاً: عنوان» (and the spellings «اقرأ أيضا», «إقرأ أيضاً», «اقرأ كذلك») → the title.
pub fn read_also_title(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    let first = arabic::normalize(words.next()?);
    let second_raw = words.next()?;
    let second = arabic::normalize(second_raw.trim_end_matches([':', '：', '-', '–']));
    if first != "اقرا" || !matches!(second.as_str(), "ايضا" | "كذلك" | "المزيد") {
        return None;
    }
    // The title is whatever follows the second word and an optional colon or dash.
    let after_second = &line[line.find(second_raw)? + second_raw.len()..];
    let title = after_second.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '：' | '-' | '–' | '—'));
    let title = title.trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// `![alt](src)` on a line of its own: the one image syntax plain text can carry. Only
/// addresses [`image_src`] accepts make an image.
pub(crate) fn image_line(line: &str) -> Option<Block> {
    let (alt, src) = image_syntax(line)?;
    let src = image_src(src)?;
    Some(Block::Image { src: src.to_string(), alt: alt.trim().to_string(), caption: None, credit: None })
}

/// The alt text and address of a line written as an image, whatever the address.
fn image_syntax(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("![")?;
    let (alt, rest) = rest.split_once("](")?;
    Some((alt, rest.strip_suffix(')')?.trim()))
}

/// The address of the first line in `text` written as an image whose address is refused
/// (`//host`, `javascript:`…), so the editor and the API can say so instead of keeping the
/// line as a paragraph.
pub fn refused_image(text: &str) -> Option<String> {
    text.lines().filter_map(|l| image_syntax(l.trim())).map(|(_, src)| src).find(|src| image_src(src).is_none()).map(str::to_string)
}

const QUOTE_PAIRS: &[(char, char)] = &[('«', '»'), ('“', '”'), ('"', '"'), ('“', '»'), ('«', '”')];

/// A paragraph that is a quotation: wholly quoted, or introduced («قال: …») with the quote
/// making up most of it.
fn quote_block(line: &str) -> Option<Block> {
    let body = line.trim_end_matches(['.', '،', ',']);
    let first = body.chars().next()?;
    let last = body.chars().last()?;
    if QUOTE_PAIRS.contains(&(first, last)) && body.chars().count() > 2 {
        let inner = &body[first.len_utf8()..body.len() - last.len_utf8()];
        if !inner.contains(['«', '»', '“', '”']) {
            return Some(Block::quote(inner.trim(), None));
        }
    }
    let colon = body.find(':')?;
    let (intro, quoted) = (body[..colon].trim(), body[colon + 1..].trim());
    let q_first = quoted.chars().next()?;
    let q_last = quoted.chars().last()?;
    if QUOTE_PAIRS.contains(&(q_first, q_last)) && quoted.chars().count() > 2 * intro.chars().count() && quoted.chars().count() > 40 {
        let inner = &quoted[q_first.len_utf8()..quoted.len() - q_last.len_utf8()];
        if !inner.contains(['«', '»', '“', '”']) {
            return Some(Block::quote(inner.trim(), Some(intro.to_string())));
        }
    }
    None
}

/// Stems of words that, two or more together, make a line a call to subscribe, follow or
/// share rather than news: «اشترك في نشرتنا البريدية», «تابعونا على…», «هل أعجبك المحتوى».
const CALL_TO_ACTION_STEMS: &[&str] = &[
    "اشترك",
    "اشتراك",
    "نشرت",
    "نشره",
    "نشرتنا",
    "بريد",
    "بريدك",
    "بريدي",
    "انضم",
    "تابعون",
    "تابعنا",
    "تابع",
    "تطبيق",
    "حمل",
    "اعجبك",
    "محتوي",
    "المزيد",
    "مزيد",
    "قائم",
    "صندوق",
    "شارك",
    "فيسبوك",
    "تويتر",
    "تلغرام",
    "يوتيوب",
    "انستغرام",
    "واتساب",
    "حقوق",
    "محفوظ",
    "الكتروني",
    "تصلك",
    "يصلك",
    "اول",
    "صباح",
    "اخبار",
    "خبر",
    "قناتنا",
    "رابط",
    "newsletter",
    "subscribe",
];

/// Strong cues: one is enough together with any other cue.
const STRONG_CUES: &[&str] =
    &["نشرتنا", "بريدك", "اشترك", "تابعونا", "اعجبك", "انضم", "تصلك", "يصلك", "قناتنا", "محفوظ", "subscribe", "newsletter"];

/// The general rule for site boilerplate: a short line addressing the reader with at least
/// two call-to-action cues, one of them strong. Long lines are news, whatever their words.
pub fn looks_like_call_to_action(line: &str) -> bool {
    let terms = arabic::analyze(line);
    if terms.len() > 40 {
        return false;
    }
    let cue = |t: &arabic::Term, list: &[&str]| {
        list.iter().any(|c| t.stem == *c || t.normalized == *c || t.normalized.ends_with(c) && t.normalized.len() <= c.len() + 4)
    };
    let cues = terms.iter().filter(|t| cue(t, CALL_TO_ACTION_STEMS)).count();
    let strong = terms.iter().any(|t| cue(t, STRONG_CUES));
    (strong && cues >= 2) || line.contains('©')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_plain(text: &str) -> ParsedText {
        parse(text, &|_, _| false).unwrap()
    }

    #[test]
    fn headline_repeated_is_dropped_and_lead_is_first_paragraph() {
        let p = parse_plain("عنوان الخبر\n\nعنوان الخبر\n\nهذه مقدمة الخبر، وهي فقرة كاملة.\n\nفقرة ثانية من النص.");
        assert_eq!(p.headline.as_str(), "عنوان الخبر");
        assert_eq!(p.lead, "هذه مقدمة الخبر، وهي فقرة كاملة.");
        assert_eq!(p.body, vec![Block::paragraph("فقرة ثانية من النص.")]);
    }

    #[test]
    fn subheadings_need_a_following_paragraph() {
        let p = parse_plain(
            "عنوان\n\nمقدمة الخبر هنا.\n\nمباحثات روتينية\n\nأشار البيان إلى أن الرئيسين أجريا اتصالاً هاتفياً طويلاً.\n\nخاتمة قصيرة بلا نقطة",
        );
        assert_eq!(p.body[0], Block::Subheading { text: "مباحثات روتينية".into() });
        assert!(matches!(p.body[2], Block::Paragraph { .. }), "a short last line is not a subheading");
    }

    #[test]
    fn read_also_spellings() {
        for line in ["اقرأ أيضاً: القمة الروسية", "اقرأ أيضا: القمة الروسية", "إقرأ أيضاً : القمة الروسية", "اقرأ أيضًا - القمة الروسية"]
        {
            assert_eq!(read_also_title(line).as_deref(), Some("القمة الروسية"), "{line}");
        }
        assert_eq!(read_also_title("اقرأ الخبر كاملاً"), None);
        assert_eq!(read_also_title("اقرأ أيضاً:"), None);
    }

    #[test]
    fn quotes_become_quote_blocks() {
        let p = parse_plain("عنوان\n\nمقدمة.\n\n«هذا تصريح كامل بين علامتي تنصيص»\n\nوقال الوزير: «إن الحكومة ماضية في خطتها الاقتصادية رغم كل الصعوبات التي تواجهها البلاد».");
        assert_eq!(p.body[0], Block::quote("هذا تصريح كامل بين علامتي تنصيص", None));
        assert!(matches!(&p.body[1], Block::Quote { intro: Some(i), .. } if i == "وقال الوزير"));
    }

    #[test]
    fn call_to_action_lines_are_recognised_by_rule() {
        assert!(looks_like_call_to_action("هل أعجبك المحتوى وتريد المزيد منه يصل إلى صندوق بريدك الإلكتروني بشكلٍ دوري؟"));
        assert!(looks_like_call_to_action("انضم إلى قائمة من يقدّرون محتوى الموقع واشترك بنشرتنا البريدية."));
        assert!(looks_like_call_to_action("تابعونا على تلغرام لتصلكم آخر الأخبار"));
        assert!(looks_like_call_to_action("اشترك في النشرة البريدية ليصلك كل جديد"));
        assert!(!looks_like_call_to_action("اشترك الرئيسان في افتتاح المعرض الدولي للكتاب في العاصمة."));
        assert!(!looks_like_call_to_action("وتعتبر المصالح الاقتصادية السبب الأول لعملية التقارب بين البلدين."));
    }

    #[test]
    fn boilerplate_removed_only_at_the_end() {
        let p = parse_plain("عنوان\n\nمقدمة.\n\nاشترك في نشرتنا البريدية ليصلك كل جديد.\n\nفقرة أخيرة من الخبر.\n\nهل أعجبك المحتوى؟ اشترك بنشرتنا البريدية.");
        assert_eq!(p.removed_trailing.len(), 1);
        assert_eq!(p.body.len(), 2);
    }

    #[test]
    fn learned_boilerplate_is_removed() {
        let p = parse("عنوان\n\nمقدمة.\n\nنص الخبر.\n\nجميع المواد تعبر عن رأي كاتبها", &|_, key| key == "جميع المواد تعبر عن راي كاتبها")
            .unwrap();
        assert_eq!(p.removed_trailing, vec!["جميع المواد تعبر عن رأي كاتبها".to_string()]);
    }

    #[test]
    fn bad_files() {
        assert_eq!(decode(b""), Err(TextError::Empty));
        assert_eq!(decode(b"  \n\n"), Err(TextError::Empty));
        assert_eq!(decode(b"\x00\x01\x02abc"), Err(TextError::Binary));
        assert!(matches!(decode(b"abc\xff\xfe"), Err(TextError::NotUtf8(3))));
        assert_eq!(parse("عنوان فقط", &|_, _| false), Err(TextError::NoBody));
        assert_eq!(decode("\u{feff}نص\r\nآخر".as_bytes()).unwrap(), "نص\nآخر");
    }

    #[test]
    fn images_on_their_own_line() {
        let p = parse_plain("عنوان\n\nمقدمة.\n\n![صورة الاجتماع](https://example.org/a.jpg)\n\n![x](javascript:alert(1))");
        assert_eq!(
            p.body[0],
            Block::Image { src: "https://example.org/a.jpg".into(), alt: "صورة الاجتماع".into(), caption: None, credit: None }
        );
        assert!(matches!(p.body[1], Block::Paragraph { .. }));
    }
}
