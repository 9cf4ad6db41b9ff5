//! Archives written by us for tests and benchmarks: a WordPress WXR file and a Ghost export
//! with Arabic text of our own, HTML edge cases and missing fields. `expected` lists what an
//! import must produce, so tests compare against the generator instead of hand-kept copies.

use std::io::Write;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::json;

/// What one generated post must become.
#[derive(Debug, Clone)]
pub struct Expected {
    pub id: String,
    pub title: String,
    /// The slug the article gets (the decoded `wp:post_name`, or derived from the title).
    pub slug: String,
    pub section: Option<String>,
    pub tags: Vec<String>,
    pub author: Option<String>,
    /// `published`, `draft` or `scheduled`.
    pub status: &'static str,
    /// The old address that must redirect (published posts only).
    pub old_path: Option<String>,
    /// A sentence the body or lead must contain.
    pub marker: String,
    /// The post's body as the export holds it: HTML, or Ghost's Lexical or Mobiledoc JSON
    /// (to count its links and emphasis against the page's).
    pub body_source: String,
}

const SECTIONS: &[(&str, &str)] = &[("politics", "سياسة"), ("economy", "اقتصاد"), ("culture", "ثقافة"), ("sport", "رياضة")];
const TAGS: &[&str] = &["دمشق", "حلب", "الزيتون", "الطاقة الشمسية", "المسرح", "كرة السلة"];
const AUTHORS: &[(&str, &str)] = &[("rana", "رنا الحلبي"), ("samer", "سامر العلي"), ("layla", "ليلى حداد")];
const SUBJECTS: &[&str] = &["مجلس المدينة", "اتحاد المزارعين", "فرقة المسرح الوطني", "نادي الشعلة", "غرفة التجارة", "جمعية الكتاب"];
const ACTIONS: &[&str] = &["يعلن خطة جديدة", "يفتتح موسماً", "يناقش الميزانية", "يحتفل بذكرى التأسيس", "يطلق مبادرة تطوعية"];

fn title(i: usize) -> String {
    format!("{} {} للعام رقم {i}", SUBJECTS[i % SUBJECTS.len()], ACTIONS[i % ACTIONS.len()])
}

fn slug(i: usize) -> String {
    format!("خبر-تجريبي-{i}")
}

fn marker(i: usize) -> String {
    format!("وأكد المتحدث أن الجلسة رقم {i} انتهت بالاتفاق على جدول زمني واضح.")
}

fn cdata(s: &str) -> String {
    // `]]>` cannot appear inside CDATA; WordPress splits it across two sections.
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The HTML of post `i`: one of several shapes, the first few with every edge case.
fn content(i: usize) -> String {
    let m = marker(i);
    match i % 6 {
        0 => format!(
            "<p>افتتح <strong>المجلس <em>جلسته</em></strong> صباح اليوم &amp; ناقش &laquo;الخطة&raquo;&nbsp;الجديدة.</p>\n\
             <p></p><p>&nbsp;</p>\n<h2>تفاصيل <a href=\"https://old.example.org/x\">الخطة</a></h2>\n\
             <p>{m}</p>\n<script>document.write('<p>نص مخفي</p>')</script><style>p {{ color: red }}</style>\n\
             <blockquote><p>«سنعمل معاً من أجل المدينة»</p></blockquote>\n\
             <p>اقرأ أيضاً: <a href=\"/old\">المجلس يقر الميزانية</a></p>\n\
             <figure><img src=\"https://old.example.org/wp-content/uploads/a{i}.jpg\" alt=\"قاعة المجلس\" onerror=\"alert(1)\"><figcaption>قاعة المجلس أثناء الجلسة</figcaption></figure>\n\
             <p>سطر أول<br>سطر ثانٍ</p><p>رمز خاص ]]> داخل النص</p><img src=\"javascript:alert(1)\">"
        ),
        1 => format!(
            "بدأ الموسم في القرى الشمالية مع ارتفاع الأسعار.\nوتوقع المزارعون إنتاجاً أفضل.\n\n{m}\n\n\
             [caption id=\"attachment_{i}\" align=\"aligncenter\" width=\"640\"]<img src=\"/wp-content/uploads/b{i}.jpg\" alt=\"\" /> عمال في الحقل[/caption]\n\n\
             الفقرة الأخيرة<br /><br />وبعدها فقرة بعد سطرين."
        ),
        2 => format!("<div><div><p>نص داخل عناصر <span>متداخلة <b>كثيرة</b></span>.</p></div></div><p>{m}</p><ul><li>بند أول</li><li>بند ثان</li></ul>"),
        3 => format!("<p>مسودة لم تنشر بعد.</p><p>{m}</p>"),
        4 => format!("<p>خبر مجدول للنشر لاحقاً.</p><p>{m}</p>"),
        _ => format!("<p>فقرة افتتاحية عن {}.</p><h3>خلفية</h3><p>{m}</p><p>غير مغلقة <b>تماماً", SUBJECTS[i % SUBJECTS.len()]),
    }
}

/// Writes a WXR export with `n` posts (plus a page, attachments, a menu item and a trashed
/// post that must be skipped) and returns what the posts must become.
pub fn write_wxr(out: &mut impl Write, n: usize) -> std::io::Result<Vec<Expected>> {
    let site = "https://old.example.org";
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>")?;
    writeln!(
        out,
        "<rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">"
    )?;
    writeln!(out, "<channel>\n<title>موقع الأخبار القديم</title>\n<link>{site}</link>\n<description>أخبار &amp; تقارير</description>")?;
    writeln!(
        out,
        "<wp:wxr_version>1.2</wp:wxr_version>\n<wp:base_site_url>{site}</wp:base_site_url>\n<wp:base_blog_url>{site}</wp:base_blog_url>"
    )?;
    for (i, (login, name)) in AUTHORS.iter().enumerate() {
        writeln!(
            out,
            "<wp:author><wp:author_id>{}</wp:author_id><wp:author_login>{}</wp:author_login><wp:author_email>{login}@example.org</wp:author_email><wp:author_display_name>{}</wp:author_display_name></wp:author>",
            i + 1,
            cdata(login),
            cdata(name)
        )?;
    }
    for (nice, name) in SECTIONS {
        writeln!(out, "<wp:category><wp:term_id>1</wp:term_id><wp:category_nicename>{nice}</wp:category_nicename><wp:cat_name>{}</wp:cat_name></wp:category>", cdata(name))?;
    }
    let mut expected = Vec::with_capacity(n);
    for i in 0..n {
        let id = 1000 + i;
        let variant = i % 6;
        let (status, wp_status) = match variant {
            3 => ("draft", "draft"),
            4 => ("scheduled", "future"),
            _ => ("published", "publish"),
        };
        // Variant 2 has no slug, no author, no categories, no excerpt, no GMT date.
        let bare = variant == 2;
        let slug_text = slug(i);
        let encoded_slug = utf8_percent_encode(&slug_text, NON_ALPHANUMERIC).to_string().to_lowercase().replace("%2d", "-");
        let link = if bare { format!("{site}/?p={id}") } else { format!("{site}/2021/12/{:02}/{encoded_slug}/", 1 + i % 28) };
        let section = (!bare).then(|| SECTIONS[i % SECTIONS.len()].1.to_string());
        let tags: Vec<String> =
            if bare { Vec::new() } else { vec![TAGS[i % TAGS.len()].to_string(), TAGS[(i + 1) % TAGS.len()].to_string()] };
        let author = (!bare).then(|| AUTHORS[i % AUTHORS.len()]);
        let title = title(i);
        writeln!(out, "<item>\n<title>{}</title>\n<link>{}</link>", xml_escape(&title), xml_escape(&link))?;
        writeln!(out, "<pubDate>Fri, 03 Dec 2021 10:00:00 +0000</pubDate>")?;
        if let Some((login, _)) = author {
            writeln!(out, "<dc:creator>{}</dc:creator>", cdata(login))?;
        }
        writeln!(out, "<guid isPermaLink=\"false\">{site}/?p={id}</guid>\n<description></description>")?;
        writeln!(out, "<content:encoded>{}</content:encoded>", cdata(&content(i)))?;
        if !bare {
            let excerpt = if variant == 0 { format!("ملخص &laquo;الخبر&raquo; رقم {i}") } else { String::new() };
            writeln!(out, "<excerpt:encoded>{}</excerpt:encoded>", cdata(&excerpt))?;
        }
        writeln!(out, "<wp:post_id>{id}</wp:post_id>\n<wp:post_date>{}</wp:post_date>", cdata("2021-12-03 12:00:00"))?;
        if !bare {
            let gmt = if variant == 3 { "0000-00-00 00:00:00" } else { "2021-12-03 10:00:00" };
            writeln!(out, "<wp:post_date_gmt>{}</wp:post_date_gmt>", cdata(gmt))?;
            writeln!(out, "<wp:post_name>{}</wp:post_name>", cdata(&encoded_slug))?;
        }
        writeln!(out, "<wp:status>{}</wp:status>\n<wp:post_type>{}</wp:post_type>", cdata(wp_status), cdata("post"))?;
        if let Some(section) = &section {
            writeln!(out, "<category domain=\"category\" nicename=\"{}\">{}</category>", SECTIONS[i % SECTIONS.len()].0, cdata(section))?;
            writeln!(out, "<category domain=\"category\" nicename=\"second\">{}</category>", cdata("قسم ثانوي"))?;
        }
        for tag in &tags {
            writeln!(out, "<category domain=\"post_tag\" nicename=\"t\">{}</category>", cdata(tag))?;
        }
        if variant == 0 {
            writeln!(
                out,
                "<wp:postmeta><wp:meta_key>{}</wp:meta_key><wp:meta_value>{}</wp:meta_value></wp:postmeta>",
                cdata("_thumbnail_id"),
                cdata(&format!("{}", 500_000 + i))
            )?;
        }
        writeln!(
            out,
            "<wp:postmeta><wp:meta_key>{}</wp:meta_key><wp:meta_value>{}</wp:meta_value></wp:postmeta>\n</item>",
            cdata("_edit_last"),
            cdata("1")
        )?;
        if variant == 0 {
            // The featured image's attachment comes after the post, as in real exports.
            writeln!(
                out,
                "<item><title>صورة {i}</title><wp:post_id>{}</wp:post_id><wp:post_type>{}</wp:post_type><wp:status>inherit</wp:status><wp:attachment_url>{site}/wp-content/uploads/featured-{i}.jpg</wp:attachment_url></item>",
                500_000 + i,
                cdata("attachment")
            )?;
        }
        expected.push(Expected {
            body_source: content(i),
            id: id.to_string(),
            title,
            slug: if bare { crate::domain::Slug::from_title(&crate::ingest::sample::title(i), "x").to_string() } else { slug_text },
            section,
            tags,
            author: author.map(|(_, name)| name.to_string()),
            status,
            old_path: (status == "published").then(|| {
                if bare {
                    format!("/?p={id}")
                } else {
                    format!("/2021/12/{:02}/{}/", 1 + i % 28, slug(i))
                }
            }),
            marker: marker(i),
        });
    }
    writeln!(out, "<item><title>من نحن</title><wp:post_id>9</wp:post_id><wp:post_type>page</wp:post_type><wp:status>publish</wp:status><content:encoded><![CDATA[<p>صفحة تعريفية</p>]]></content:encoded></item>")?;
    writeln!(out, "<item><title>القائمة</title><wp:post_id>10</wp:post_id><wp:post_type>nav_menu_item</wp:post_type><wp:status>publish</wp:status></item>")?;
    writeln!(
        out,
        "<item><title>محذوف</title><wp:post_id>11</wp:post_id><wp:post_type>post</wp:post_type><wp:status>trash</wp:status></item>"
    )?;
    writeln!(out, "</channel>\n</rss>")?;
    Ok(expected)
}

/// A Ghost export with `n` posts (html, Lexical and Mobiledoc bodies in turn), a page, an
/// internal tag and a post without tags or authors.
pub fn ghost_export(n: usize) -> (serde_json::Value, Vec<Expected>) {
    let users: Vec<_> =
        AUTHORS.iter().enumerate().map(|(i, (login, name))| json!({"id": format!("u{i}"), "name": name, "slug": login})).collect();
    let mut tags: Vec<_> = SECTIONS.iter().map(|(slug, name)| json!({"id": format!("s-{slug}"), "name": name, "slug": slug})).collect();
    tags.extend(TAGS.iter().enumerate().map(|(i, name)| json!({"id": format!("t{i}"), "name": name, "slug": format!("t{i}")})));
    tags.push(json!({"id": "internal", "name": "#import", "slug": "hash-import", "visibility": "internal"}));
    let (mut posts, mut posts_tags, mut posts_authors, mut expected) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let id = format!("6{i:07}abcdef");
        let variant = i % 4;
        let status = if variant == 3 { "draft" } else { "published" };
        let m = marker(i);
        let mut post = json!({
            "id": id, "uuid": format!("uuid-{i}"), "title": title(i), "slug": slug(i), "type": "post", "status": status,
            "published_at": if status == "published" { json!("2022-03-01T09:30:00.000Z") } else { json!(null) },
            "created_at": "2022-02-28T08:00:00.000Z",
            "feature_image": if variant == 0 { json!(format!("__GHOST_URL__/content/images/f{i}.jpg")) } else { json!(null) },
        });
        match variant {
            0 => post["html"] = json!(format!("<p>مقدمة الخبر رقم {i} &amp; تفاصيله.</p><h2>خلفية</h2><p>{m}</p><p>وبحسب <a href=\"https://source.example/report-{i}\">التقرير</a> فإن <strong>الخطة</strong> <em>جاهزة</em>.</p><blockquote>«اقتباس»</blockquote><figure class=\"kg-card\"><img src=\"__GHOST_URL__/content/images/in{i}.jpg\" alt=\"صورة\"></figure><script>alert(1)</script>")),
            1 => {
                let lexical = json!({"root": {"type": "root", "children": [
                    {"type": "paragraph", "children": [{"type": "text", "text": format!("فقرة من محرر لكسيكال رقم {i}.")}]},
                    {"type": "heading", "tag": "h3", "children": [{"type": "text", "text": "عنوان فرعي"}]},
                    {"type": "paragraph", "children": [{"type": "text", "text": m.clone()}]},
                    {"type": "paragraph", "children": [{"type": "text", "text": "قال "}, {"type": "text", "text": "الوزير", "format": 1},
                        {"type": "text", "text": " إن "}, {"type": "link", "url": "https://source.example/lexical", "children": [{"type": "text", "text": "البيان", "format": 2}]}]},
                ]}});
                post["lexical"] = json!(lexical.to_string());
                post["html"] = json!(null);
            }
            _ => {
                let mobiledoc = json!({"version": "0.3.1", "atoms": [], "markups": [["strong"], ["a", ["href", "https://source.example/mobiledoc"]], ["em"]],
                    "cards": [["image", {"src": "/content/images/m.jpg", "caption": "شرح"}]],
                    "sections": [[1, "p", [[0, [], 0, format!("فقرة من موبايلدوك رقم {i}.")]]], [10, 0], [1, "p", [[0, [], 0, m.clone()]]],
                        [1, "p", [[0, [], 0, "راجع "], [0, [1], 0, "المصدر "], [0, [0], 2, "الأصلي"], [0, [2], 1, " هنا"]]]]});
                post["mobiledoc"] = json!(mobiledoc.to_string());
            }
        }
        let body_source = ["html", "lexical", "mobiledoc"].iter().find_map(|k| post[*k].as_str()).unwrap_or_default().to_string();
        posts.push(post);
        let bare = variant == 2;
        let (section, tag_names, author) = if bare {
            (None, Vec::new(), None)
        } else {
            let s = i % SECTIONS.len();
            posts_tags.push(json!({"post_id": id, "tag_id": format!("s-{}", SECTIONS[s].0), "sort_order": 0}));
            posts_tags.push(json!({"post_id": id, "tag_id": "internal", "sort_order": 1}));
            posts_tags.push(json!({"post_id": id, "tag_id": format!("t{}", i % TAGS.len()), "sort_order": 2}));
            let a = i % AUTHORS.len();
            posts_authors.push(json!({"post_id": id, "author_id": format!("u{a}"), "sort_order": 0}));
            (Some(SECTIONS[s].1.to_string()), vec![TAGS[i % TAGS.len()].to_string()], Some(AUTHORS[a].1.to_string()))
        };
        expected.push(Expected {
            id: id.clone(),
            title: title(i),
            slug: slug(i),
            section,
            tags: tag_names,
            author,
            status: if status == "published" { "published" } else { "draft" },
            old_path: (status == "published").then(|| format!("/{}/", slug(i))),
            marker: m,
            body_source,
        });
    }
    posts.push(json!({"id": "page1", "title": "من نحن", "slug": "about", "type": "page", "status": "published", "html": "<p>صفحة</p>"}));
    let export = json!({"db": [{"meta": {"exported_on": 1_646_000_000_000_i64, "version": "5.0.0"}, "data": {
        "posts": posts, "tags": tags, "users": users, "posts_tags": posts_tags, "posts_authors": posts_authors,
    }}]});
    (export, expected)
}
