//! Turning data into text for people: HTML escaping, truncation, URLs and paths of public
//! pages, dates, and the one minijinja environment that pages and mail are rendered with.
//!
//! Nothing else in the crate escapes HTML, builds a public URL or formats a date, so a fix
//! here reaches the site, the feeds, the search snippets and the newsletter alike.

mod dates;
mod marks;
mod text;
mod url;

use anyhow::Context;
use minijinja::Environment;

pub use dates::DateStyle;
pub use marks::{marked_html, marked_plain, LinkStyle};
pub use text::{escape_html, truncate};
pub use url::{absolute_url, encode_segment, paths};

/// A minijinja environment holding `templates` (name, source), with the `truncate` filter and
/// the HTML escaping of the site. Auto-escaping follows the template's name: `.html` escapes,
/// `.txt` (mail subjects and plain-text bodies) does not.
pub fn environment(templates: &[(&'static str, &'static str)]) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, source) in templates {
        env.add_template(name, source).with_context(|| format!("template {name}"))?;
    }
    env.add_filter("truncate", truncate);
    // minijinja's default HTML escaping also escapes '/', which mangles URLs and dates
    // («كانون الأول/ ديسمبر») in the page source; escaping & < > " ' is what HTML needs.
    env.set_formatter(|out, state, value| {
        if !value.is_safe() && matches!(state.auto_escape(), minijinja::AutoEscape::Html) {
            if let Some(s) = value.as_str() {
                return out
                    .write_str(&escape_html(s))
                    .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed"));
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_templates_escape_and_text_templates_do_not() {
        let env = environment(&[("a.html", "{{ v }}"), ("a.txt", "{{ v }}")]).unwrap();
        let v = "<b dir=\"rtl\">«كانون الأول/ ديسمبر» & 'x'</b>";
        let html = env.get_template("a.html").unwrap().render(minijinja::context! { v }).unwrap();
        assert_eq!(html, "&lt;b dir=&quot;rtl&quot;&gt;«كانون الأول/ ديسمبر» &amp; &#39;x&#39;&lt;/b&gt;");
        let text = env.get_template("a.txt").unwrap().render(minijinja::context! { v }).unwrap();
        assert_eq!(text, v);
    }
}
