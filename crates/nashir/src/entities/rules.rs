//! The scanning rules: gazetteer matches and people introduced by a title or role.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use super::{Accumulator, Gazetteer, Kind, Word};

/// Words that introduce a person: titles, offices, professions («المحلل»), and «نظيره».
#[rustfmt::skip]
const TITLES: &[&str] = &[
    "الرئيس", "رئيس", "الرئيسة", "رئيسة", "نائب", "وزير", "وزيرة", "الوزير", "الوزيرة", "الملك", "الملكة",
    "الأمير", "الأميرة", "الشيخ", "الشيخة", "السلطان", "المستشار", "المستشارة", "مستشار", "المتحدث", "المتحدثة",
    "الناطق", "الناطقة", "المحلل", "المحللة", "الخبير", "الخبيرة", "الباحث", "الباحثة", "الكاتب", "الكاتبة",
    "الصحفي", "الصحفية", "الصحافي", "الصحافية", "الإعلامي", "الإعلامية", "الروائي", "الروائية", "الشاعر",
    "الشاعرة", "الفنان", "الفنانة", "الممثل", "الممثلة", "المخرج", "المخرجة", "المغني", "المغنية", "المطرب",
    "المطربة", "النجم", "النجمة", "اللاعب", "اللاعبة", "المهاجم", "المدافع", "الحارس", "المدرب", "مدرب",
    "المدير", "المديرة", "مدير", "مديرة", "السفير", "السفيرة", "سفير", "النائب", "النائبة", "السيناتور",
    "الجنرال", "اللواء", "العميد", "العقيد", "المبعوث", "مبعوث", "الأمين", "زعيم", "الزعيم", "قائد", "القائد",
    "مؤسس", "الملياردير", "الدكتور", "الدكتورة", "البروفيسور", "الأستاذ", "المحامي", "المحامية", "القاضي",
    "المرشح", "المرشحة", "المفوض", "المفوضة", "الناشط", "الناشطة", "المعارض", "البطل", "البطلة", "الداعية",
    "المطران", "البابا", "نظيره", "نظيرته", "نظيرها", "السيد", "السيدة", "المؤرخ", "المفكر", "الأديب",
    "الموسيقار", "الملحن", "المصمم", "المصممة", "المؤلف", "الرئيس التنفيذي", "عضو", "العضو", "المندوب",
    "مندوب", "المراسل", "الحكم", "المدير الفني", "الدبلوماسي", "الأكاديمي", "المهندس", "السياسي",
    "القيادي", "الميلياردير", "رائد", "الإذاعي", "الإذاعية", "المذيع", "المذيعة", "مراسل", "مراسلة",
    "موفد", "موفدة", "الرسام", "النحات", "الكوميدي", "المنتج", "الملاكم", "العداء", "العداءة", "السباح",
    "المصور", "الأمين العام", "المتحدث الرسمي", "الناقد", "المغرد", "المدون", "الطبيب", "الطبيبة",
];

/// Nouns that continue a title without the article: «وزير خارجية روسيا», «رئيس مجلس الإدارة».
#[rustfmt::skip]
const GENITIVES: &[&str] = &[
    "خارجية", "وزراء", "مجلس", "باسم", "حكومة", "دولة", "نادي", "منتخب", "شركة", "وزارة", "جمهورية",
    "منظمة", "حزب", "حركة", "جامعة", "مركز", "معهد", "بنك", "صندوق", "هيئة", "لجنة", "إدارة", "مكتب",
    "فريق", "وكالة", "دفاع", "داخلية", "مالية", "اقتصاد", "مؤسسة", "الشؤون", "مجموعة", "اتحاد", "برنامج",
    "خادم", "قوات", "محطة", "قطاع", "سلطة", "جهاز", "شرطة", "جيش", "ميليشيات", "ميليشيا", "تنظيم",
    "شؤون", "ملف", "قسم", "كلية", "مستشفى", "نقابة", "غرفة", "سوق", "بورصة", "صحيفة", "موقع", "قناة",
    "إذاعة", "تلفزيون", "مجلة", "نائب", "أمين", "عام",
];

/// Words that follow titles but are never names: verbs of saying, weekdays, months, and the
/// nouns news prose puts there.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "قال", "قالت", "يقول", "تقول", "أكد", "أكدت", "يؤكد", "تؤكد", "أعلن", "أعلنت", "يعلن", "أشار", "أشارت",
    "يشير", "أضاف", "أضافت", "يضيف", "بحث", "بحثت", "يبحث", "دعا", "دعت", "يدعو", "التقى", "التقت", "يلتقي",
    "زار", "زارت", "يزور", "وصل", "وصلت", "اعتبر", "اعتبرت", "يعتبر", "أوضح", "أوضحت", "كشف", "كشفت",
    "يكشف", "ذكر", "ذكرت", "صرح", "صرحت", "طالب", "طالبت", "رفض", "رفضت", "وقع", "وقعت", "استقبل",
    "استقبلت", "يستقبل", "شدد", "شددت", "نفى", "نفت", "أبدى", "عبر", "أعرب", "أعربت", "ترأس", "أجرى",
    "أجرت", "هاتف", "قام", "قامت", "تلقى", "تلقت", "نقل", "نقلت", "حذر", "حذرت", "أمر", "أمرت", "اتهم",
    "اتهمت", "وعد", "وعدت", "توجه", "توجهت", "غادر", "غادرت", "حضر", "حضرت", "شارك", "شاركت", "افتتح",
    "فاز", "فازت", "خسر", "سجل", "سجلت", "لعب", "يلعب", "انتقد", "انتقدت", "ناقش", "بعث", "هنأ", "اتصل",
    "اتصلت", "أجاب", "أبلغ", "أفاد", "أفادت", "يرى", "ترى", "رأى", "تحدث", "تحدثت", "يتحدث", "أصدر",
    "أصدرت", "وافق", "وافقت", "سيزور", "سيلتقي", "يوم", "اليوم", "أمس", "غدا", "السبت", "الأحد",
    "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "سبت", "أحد", "اثنين", "ثلاثاء", "أربعاء",
    "خميس", "جمعة", "يناير", "فبراير", "مارس", "أبريل", "إبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
    "أكتوبر", "نوفمبر", "ديسمبر", "كانون", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب",
    "أيلول", "تشرين", "عام", "سنة", "شهر", "أسبوع", "مساء", "صباح", "بلاده", "بلادها", "حاليا", "سابقا",
    "مجددا", "بيان", "تصريح", "تصريحات", "كلمة", "مؤتمر", "اجتماع", "لقاء", "زيارة", "اتصال", "مباحثات",
    "محادثات", "رسالة", "مقابلة", "حديث", "صحيفة", "قناة", "موقع", "أول", "ثاني", "آخر", "جديد", "نفسه",
    "نفسها", "شخصيا", "بنفسه", "أيضا", "الذي", "التي", "إنه", "إنها", "إن", "أن", "لدى", "يجب", "ضرورة",
    "وقت", "بشأن", "بشكل", "أمام", "المقبل", "الماضي", "الحالي", "السابق", "الجديد", "السبب", "مرة",
    "تعيين", "انتخاب", "اختيار", "ترشيح", "مقتل", "اغتيال", "وفاة", "اعتقال", "إقالة", "استقالة", "يوضح",
    "توضح", "يضيف", "تضيف", "يؤكد", "يرى", "يعتقد", "تعتقد", "يشير", "حسب", "بحسب", "وفق", "كتب", "كتبت",
    "أوضح", "نشر", "نشرت", "غرد", "غردت", "أشاد", "أشادت", "هاجم", "هاجمت", "سأل", "يسأل", "قائلا", "مضيفا",
];

/// Titles that are also adjectives («المجلس السياسي»): a title only when they do not follow a
/// definite noun.
const ADJECTIVAL_TITLES: &[&str] = &["السياسي", "القيادي", "الإعلامي", "الإعلامية", "الدبلوماسي", "الأكاديمي", "الصحفي", "الصحافي"];

/// Name particles after which an article-prefixed word is still part of the name (normalized).
const NAME_JOINERS: &[&str] =
    &["عبد", "ابو", "بن", "ابن", "بنت", "نور", "سيف", "صلاح", "شمس", "عز", "جمال", "سعد", "فان", "دي", "دو", "ولد"];

/// Titles that may follow the name without a comma («باول آدامز مراسل بي بي سي»).
const POST_TITLES: &[&str] = &["مراسل", "مراسلة", "موفد", "موفدة", "مندوب"];

/// Names ending in ة, allowed as a first name after a title.
#[rustfmt::skip]
const NAMES_IN_TEH: &[&str] = &[
    "حمزة", "أسامة", "عبيدة", "طلحة", "فاطمة", "خديجة", "عائشة", "سمية", "أمينة", "نادية", "رانية", "هالة",
    "عبلة", "ماجدة", "سميرة", "أميرة", "نبيلة", "جميلة", "لطيفة", "منيرة", "خليفة", "عطية", "رقية", "صفية",
    "سارة", "ساره", "ميادة", "غادة", "هبة", "عزة", "حياة", "نجاة", "رحمة", "أسماء", "ريما", "فيروز", "مارية",
    "ماريا", "أنجيلا", "تيريزا", "كريستينا", "إيفانكا", "جاسيندا", "هيلاري",
];

/// Nouns after which a single unknown word is a place.
const PLACE_HEADS: &[&str] = &["مدينة", "منطقة", "محافظة", "جزيرة", "بلدة", "قرية", "ولاية", "إقليم", "مقاطعة", "ضاحية", "حي", "مخيم"];

struct Lists {
    titles: FxHashSet<String>,
    /// First words of multi-word titles («الرئيس التنفيذي» → الرئيس is enough to start).
    genitives: FxHashSet<String>,
    not_names: FxHashSet<String>,
    post_titles: FxHashSet<String>,
    names_in_teh: FxHashSet<String>,
    place_heads: FxHashSet<String>,
    adjectival: FxHashSet<String>,
}

fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| {
        let norm = |v: &[&str]| v.iter().filter_map(|w| arabic::tokenize(w).into_iter().next().map(|t| t.text)).collect::<FxHashSet<_>>();
        Lists {
            titles: norm(TITLES),
            genitives: norm(GENITIVES),
            not_names: norm(NOT_NAMES),
            post_titles: norm(POST_TITLES),
            names_in_teh: norm(NAMES_IN_TEH),
            place_heads: norm(PLACE_HEADS),
            adjectival: norm(ADJECTIVAL_TITLES),
        }
    })
}

fn is_arabic_word(s: &str) -> bool {
    s.chars().all(|c| ('\u{0620}'..='\u{064A}').contains(&c))
}

fn is_title(w: &Word<'_>) -> bool {
    let l = lists();
    w.bare.iter().any(|b| l.titles.contains(b))
}

/// Finds gazetteer entries and titled people in `ws`, marking the words used in `covered`.
pub(crate) fn scan(ws: &[Word<'_>], gaz: &Gazetteer, covered: &mut [bool], acc: &mut Accumulator) {
    let mut i = 0;
    while i < ws.len() {
        if covered[i] {
            i += 1;
            continue;
        }
        if let Some((idx, len)) = gazetteer_at(ws, gaz, i) {
            let e = gaz.entry(idx);
            if e.kind == super::Kind::Person {
                register_surname(acc, &e.key);
            }
            acc.add(e.kind, &e.name, e.key.clone());
            covered[i..i + len].iter_mut().for_each(|c| *c = true);
            i += len;
            continue;
        }
        if is_title(&ws[i]) && !adjective_here(ws, i) {
            for span in [name_before_title(ws, gaz, i), titled_name(ws, gaz, i + 1)].into_iter().flatten() {
                let (start, end) = span;
                if !covered[start..end].iter().any(|&c| c) {
                    add_person(ws, gaz, start, end, acc);
                    covered[start..end].iter_mut().for_each(|c| *c = true);
                }
            }
        } else if let Some(x) = headed_place(ws, gaz, i) {
            if !covered[x] {
                acc.add(Kind::Place, ws[x].text, ws[x].norm.clone());
                covered[x] = true;
            }
        }
        i += 1;
    }
}

/// The longest gazetteer entry starting at word `i`, trying the word with clitics stripped.
fn gazetteer_at(ws: &[Word<'_>], gaz: &Gazetteer, i: usize) -> Option<(u32, usize)> {
    let mut next: Vec<&str> = Vec::new();
    for w in ws[i + 1..].iter().take(6) {
        if w.after_punct {
            break;
        }
        next.push(&w.norm);
    }
    ws[i].bare.iter().find_map(|b| gaz.longest(b, &next))
}

fn register_surname(acc: &mut Accumulator, key: &str) {
    let mut parts = key.split(' ');
    let first = parts.next();
    if let Some(last) = key.rsplit(' ').next().filter(|l| l.chars().count() >= 3 && Some(*l) != first) {
        acc.surnames.entry(last.to_string()).or_insert_with(|| key.to_string());
    }
}

/// After a title at `j - 1`: skips modifiers («الروسي», «الخارجية», «للأمم المتحدة», a
/// comma) and returns the span of the name that follows, if any.
fn titled_name(ws: &[Word<'_>], gaz: &Gazetteer, mut j: usize) -> Option<(usize, usize)> {
    let l = lists();
    let mut modifiers = 0;
    while j < ws.len() && modifiers < 6 {
        let w = &ws[j];
        // «وزير الداخلية: نسبة المشاركة…» — a colon or full stop ends the title phrase.
        if w.after_punct && !w.after_comma {
            return None;
        }
        if arabic::is_stopword(&w.norm) || l.not_names.contains(&w.norm) {
            return None;
        }
        if let Some((idx, len)) = gazetteer_at(ws, gaz, j) {
            if gaz.entry(idx).kind == Kind::Person {
                return Some((j, j + len));
            }
            j += len;
            modifiers += 1;
            continue;
        }
        let definite = w.bare.iter().any(|b| b.starts_with("ال"));
        if definite || l.genitives.contains(&w.norm) || is_title(w) {
            j += 1;
            modifiers += 1;
            continue;
        }
        break;
    }
    if j >= ws.len() || (ws[j].after_punct && !ws[j].after_comma) {
        return None;
    }
    let start = j;
    let mut end = j;
    let mut core = 0;
    while end < ws.len() && end - start < 6 {
        let w = &ws[end];
        if end > start && w.after_punct {
            break;
        }
        if !is_name_word(w) {
            break;
        }
        if end > start && gazetteer_at(ws, gaz, end).is_some_and(|(idx, _)| gaz.entry(idx).kind != Kind::Person) {
            break;
        }
        // A conjunction-prefixed word starts a new clause («…بوتين وأردوغان»).
        if end > start && w.norm.starts_with('و') {
            break;
        }
        let after_joiner = end > start && is_joiner(&ws[end - 1].norm);
        if w.norm.starts_with("ال") {
            if after_joiner {
                end += 1;
                continue;
            }
            // «بشار الأسد», «شذى رضا الجمال»: a surname with the article ends the name.
            if (1..=2).contains(&core) {
                end += 1;
            }
            break;
        }
        if !is_joiner(&w.norm) {
            if w.norm.chars().count() < 3 {
                break;
            }
            core += 1;
            if core > 3 {
                break;
            }
        }
        end += 1;
    }
    while end > start && is_joiner(&ws[end - 1].norm) {
        end -= 1;
    }
    (end > start && plausible_first_name(&ws[start])).then_some((start, end))
}

/// A person named just before a title: «أكد عبد الله ملكاوي، موفد فرانس 24», «باول آدامز
/// مراسل بي بي سي». Returns the span when the words before the title look like a name and
/// what precedes them is a clause boundary (punctuation, a verb of saying, a function word).
fn name_before_title(ws: &[Word<'_>], gaz: &Gazetteer, title: usize) -> Option<(usize, usize)> {
    let l = lists();
    let t = &ws[title];
    let comma = t.after_punct && t.after_comma;
    let post_title = !t.after_punct && t.bare.iter().any(|b| l.post_titles.contains(b));
    if !comma && !post_title {
        return None;
    }
    let end = title;
    let mut start = title;
    let mut core = 0;
    while start > 0 && title - start < 5 {
        let w = &ws[start - 1];
        if !is_name_word(w) || gazetteer_at(ws, gaz, start - 1).is_some() {
            break;
        }
        if start < end && ws[start].after_punct {
            break;
        }
        if w.norm.starts_with("ال") && !(start >= 2 && is_joiner(&ws[start - 2].norm)) {
            break;
        }
        if !is_joiner(&w.norm) {
            core += 1;
        }
        start -= 1;
        if core == 3 {
            break;
        }
    }
    while start < end && is_joiner(&ws[start].norm) && !ws.get(start + 1).is_some_and(|n| n.norm.starts_with("ال")) {
        start += 1;
    }
    if core < 2 || !plausible_first_name(&ws[start]) {
        return None;
    }
    let boundary = start == 0 || ws[start].after_punct || {
        let before = &ws[start - 1];
        arabic::is_stopword(&before.norm) || before.bare.iter().any(|b| l.not_names.contains(b)) || is_title(before)
    };
    boundary.then_some((start, end))
}

/// «للمجلس السياسي»: an adjectival title after a definite noun is an adjective.
fn adjective_here(ws: &[Word<'_>], i: usize) -> bool {
    let l = lists();
    i > 0
        && !ws[i].after_punct
        && ws[i].bare.iter().any(|b| l.adjectival.contains(b))
        && ws[i - 1].bare.iter().any(|b| b.starts_with("ال"))
        && !is_title(&ws[i - 1])
}

fn is_name_word(w: &Word<'_>) -> bool {
    let l = lists();
    // «فان» is also a function word (ف + إن); inside a name it is a particle.
    is_joiner(&w.norm) && w.norm != "ال"
        || is_arabic_word(&w.norm)
            && !arabic::is_stopword(&w.norm)
            && !l.not_names.contains(&w.norm)
            && !is_title(w)
            && !l.genitives.contains(&w.norm)
}

fn is_joiner(norm: &str) -> bool {
    NAME_JOINERS.contains(&norm)
}

/// Feminine nouns («نسبة», «محطة») follow titles more often than names do; a first word
/// ending in ة must be one of the names that do.
fn plausible_first_name(w: &Word<'_>) -> bool {
    !w.text.trim_end_matches(|c: char| !c.is_alphabetic()).ends_with('ة') || lists().names_in_teh.contains(&w.norm)
}

/// «مدينة سالزبري», «جزيرة سنتوسا», «بمنطقة رشدي»: a place named after a place noun.
fn headed_place(ws: &[Word<'_>], gaz: &Gazetteer, i: usize) -> Option<usize> {
    let l = lists();
    if !ws[i].bare.iter().any(|b| l.place_heads.contains(b)) {
        return None;
    }
    let x = ws.get(i + 1)?;
    let ok = !x.after_punct
        && is_name_word(x)
        && !x.norm.starts_with("ال")
        && x.norm.chars().count() >= 3
        && plausible_first_name(x)
        && gazetteer_at(ws, gaz, i + 1).is_none();
    ok.then_some(i + 1)
}

/// Records the person at `ws[start..end]`, merged with a gazetteer person when the full name
/// or the surname is one of its variants; a lone unknown word is not enough.
fn add_person(ws: &[Word<'_>], gaz: &Gazetteer, start: usize, end: usize, acc: &mut Accumulator) {
    let words: Vec<&str> = ws[start..end].iter().map(|w| w.norm.as_str()).collect();
    let known = gaz
        .longest(words[0], &words[1..])
        .filter(|&(idx, len)| len == words.len() && gaz.entry(idx).kind == Kind::Person)
        .map(|(idx, _)| idx)
        .or_else(|| gaz.person_by_word(words[words.len() - 1]));
    if let Some(idx) = known {
        let e = gaz.entry(idx);
        register_surname(acc, &e.key);
        acc.add(Kind::Person, &e.name, e.key.clone());
        return;
    }
    if words.len() == 1 {
        if let Some(key) = acc.surnames.get(words[0]).cloned() {
            acc.bump(&key);
        }
        return;
    }
    let key = acc.same_person(&words).unwrap_or_else(|| words.join(" "));
    let display = display_name(ws, start, end);
    register_surname(acc, &key);
    acc.add(Kind::Person, &display, key);
}

fn display_name(ws: &[Word<'_>], start: usize, end: usize) -> String {
    ws[start..end].iter().map(|w| w.text).collect::<Vec<_>>().join(" ")
}
