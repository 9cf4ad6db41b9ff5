//! The default theme, embedded in the binary so one file is the whole product.

use anyhow::Context;
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("article.html", include_str!("../../templates/article.html")),
    ("list.html", include_str!("../../templates/list.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("admin/base.html", include_str!("../../templates/admin/base.html")),
    ("admin/login.html", include_str!("../../templates/admin/login.html")),
    ("admin/password.html", include_str!("../../templates/admin/password.html")),
    ("admin/media_item.html", include_str!("../../templates/admin/media_item.html")),
    ("admin/setup.html", include_str!("../../templates/admin/setup.html")),
    ("admin/list.html", include_str!("../../templates/admin/list.html")),
    ("admin/edit.html", include_str!("../../templates/admin/edit.html")),
    ("admin/revisions.html", include_str!("../../templates/admin/revisions.html")),
    ("admin/related.html", include_str!("../../templates/admin/related.html")),
    ("admin/diff.html", include_str!("../../templates/admin/diff.html")),
    ("admin/users.html", include_str!("../../templates/admin/users.html")),
    ("admin/sections.html", include_str!("../../templates/admin/sections.html")),
    ("admin/tokens.html", include_str!("../../templates/admin/tokens.html")),
    ("admin/media.html", include_str!("../../templates/admin/media.html")),
    ("admin/newsletter.html", include_str!("../../templates/admin/newsletter.html")),
    ("admin/subscribers.html", include_str!("../../templates/admin/subscribers.html")),
    ("admin/subscriber.html", include_str!("../../templates/admin/subscriber.html")),
    ("admin/issue.html", include_str!("../../templates/admin/issue.html")),
    ("newsletter/form.html", include_str!("../../templates/newsletter/form.html")),
    ("newsletter/index.html", include_str!("../../templates/newsletter/index.html")),
    ("newsletter/message.html", include_str!("../../templates/newsletter/message.html")),
    ("newsletter/confirm.html", include_str!("../../templates/newsletter/confirm.html")),
    ("newsletter/preferences.html", include_str!("../../templates/newsletter/preferences.html")),
    ("newsletter/unsubscribe.html", include_str!("../../templates/newsletter/unsubscribe.html")),
    ("newsletter/archive.html", include_str!("../../templates/newsletter/archive.html")),
    ("newsletter/issue.html", include_str!("../../templates/newsletter/issue.html")),
];

pub const CSS: &str = include_str!("../../templates/style.css");

/// The admin's one inline script (progressive enhancement of the editor form). It is allowed
/// by its hash in the admin's Content-Security-Policy, so no other inline script can run.
pub const EDITOR_JS: &str = include_str!("../../templates/admin/editor.js");

/// `'sha256-…'` of an inline script or style, as a CSP source expression.
pub fn csp_hash(content: &str) -> String {
    use base64::Engine;
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes())))
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> anyhow::Result<Templates> {
        let mut env = crate::render::environment(TEMPLATES)?;
        env.add_global("css", minijinja::Value::from_safe_string(CSS.to_string()));
        env.add_global("editor_js", minijinja::Value::from_safe_string(EDITOR_JS.to_string()));
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        let template = self.env.get_template(name)?;
        template.render(context).with_context(|| format!("rendering {name}"))
    }
}
