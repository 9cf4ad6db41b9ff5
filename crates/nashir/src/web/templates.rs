//! The default theme, embedded in the binary so one file is the whole product.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use anyhow::Context;
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("article.html", include_str!("../../templates/article.html")),
    ("list.html", include_str!("../../templates/list.html")),
    ("card.html", include_str!("../../templates/card.html")),
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
    ("admin/front.html", include_str!("../../templates/admin/front.html")),
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

/// The block editor of the admin (sources in `crates/nashir/editor`, ProseMirror), built by
/// `scripts/build-editor` into this one committed asset; CI rebuilds it and compares.
pub const EDITOR_BUNDLE: &str = include_str!("../../assets/editor-1.0.0.js");

/// Where the editor bundle is served: the name carries a hash of its content, so browsers
/// may keep it for a year and a new build is a new address.
pub static EDITOR_BUNDLE_PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(EDITOR_BUNDLE.as_bytes());
    format!("/assets/editor-{}.js", hex::encode(&digest[..8]))
});

/// `'sha256-…'` of an inline script or style, as a CSP source expression.
pub fn csp_hash(content: &str) -> String {
    use base64::Engine;
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes())))
}

/// The files of the built-in theme by name, as `nashir theme export` writes them and as a
/// theme directory overrides them: every template, and `style.css`.
pub fn builtin_theme() -> Vec<(&'static str, &'static str)> {
    let mut files: Vec<_> = TEMPLATES.to_vec();
    files.push(("style.css", CSS));
    files
}

/// The templates pages are rendered with: the built-in theme, with the files of
/// `<data dir>/theme/` in place of the built-in ones of the same name.
///
/// A theme file that does not compile is reported (file and line) and the built-in one is used
/// in its place; a theme template that fails while rendering falls back to the built-in theme
/// for that page. Either way readers get a page.
pub struct Templates {
    builtin: Environment<'static>,
    current: RwLock<Arc<Environment<'static>>>,
    theme_dir: Option<PathBuf>,
    /// What the theme directory held when last read: names, sizes, modification times.
    seen: Mutex<Vec<(String, u64, SystemTime)>>,
}

/// A theme file the operator must fix; the built-in file is served meanwhile.
#[derive(Debug, Clone)]
pub struct ThemeProblem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ThemeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

fn builtin_environment() -> anyhow::Result<Environment<'static>> {
    let mut env = crate::render::environment(TEMPLATES)?;
    env.add_global("css", minijinja::Value::from_safe_string(CSS.to_string()));
    env.add_global("editor_js", minijinja::Value::from_safe_string(EDITOR_JS.to_string()));
    env.add_global("editor_bundle", EDITOR_BUNDLE_PATH.as_str());
    Ok(env)
}

/// The theme files that may override built-in ones: templates (`.html`, in subfolders too,
/// named like `admin/base.html`) and `style.css`. Anything else is ignored.
fn theme_files(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(relative) = path.strip_prefix(dir) else { continue };
            let name = relative.to_string_lossy().replace('\\', "/");
            if name.ends_with(".html") || name == "style.css" {
                found.push((name, meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    found.sort();
    found
}

impl Templates {
    /// The built-in theme only.
    pub fn new() -> anyhow::Result<Templates> {
        Templates::with_theme(None)
    }

    /// The built-in theme, overridden by the files in `theme_dir` (which may not exist yet).
    pub fn with_theme(theme_dir: Option<PathBuf>) -> anyhow::Result<Templates> {
        let builtin = builtin_environment()?;
        let templates =
            Templates { current: RwLock::new(Arc::new(builtin_environment()?)), builtin, theme_dir, seen: Mutex::new(Vec::new()) };
        for problem in templates.reload_if_changed().1 {
            tracing::error!(problem = %problem, "theme file not used; the built-in one is served instead");
        }
        Ok(templates)
    }

    /// Reads the theme directory again if anything in it changed (cheap when nothing did: one
    /// directory listing). Returns whether the templates changed, and the files not used.
    pub fn reload_if_changed(&self) -> (bool, Vec<ThemeProblem>) {
        let Some(dir) = &self.theme_dir else { return (false, Vec::new()) };
        let files = theme_files(dir);
        {
            let mut seen = match self.seen.lock() {
                Ok(seen) => seen,
                Err(poisoned) => poisoned.into_inner(),
            };
            if *seen == files {
                return (false, Vec::new());
            }
            *seen = files.clone();
        }
        let (env, problems) = match self.themed_environment(dir, &files) {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "theme: cannot build the templates; serving the built-in theme");
                return (false, Vec::new());
            }
        };
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(env),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(env),
        }
        (true, problems)
    }

    fn themed_environment(
        &self,
        dir: &Path,
        files: &[(String, u64, SystemTime)],
    ) -> anyhow::Result<(Environment<'static>, Vec<ThemeProblem>)> {
        let mut env = builtin_environment()?;
        let mut problems = Vec::new();
        for (name, _, _) in files {
            let path = dir.join(name);
            let source = match std::fs::read_to_string(&path) {
                Ok(source) => source,
                Err(e) => {
                    problems.push(ThemeProblem { file: path, line: None, message: e.to_string() });
                    continue;
                }
            };
            if name == "style.css" {
                env.add_global("css", minijinja::Value::from_safe_string(source));
                continue;
            }
            if let Err(e) = env.add_template_owned(name.clone(), source) {
                problems.push(ThemeProblem { file: path, line: e.line(), message: e.to_string() });
                // The built-in one stays, when there is one: `add_template_owned` failed
                // before replacing it.
            }
        }
        Ok((env, problems))
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        let current = match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        };
        let context = minijinja::Value::from_serialize(&context);
        match current.get_template(name).and_then(|t| t.render(&context)) {
            Ok(html) => Ok(html),
            Err(e) if self.theme_dir.is_some() => {
                // A theme template that fails at render time (an unknown filter, an include
                // of a missing file): reported, and the page comes from the built-in theme.
                tracing::error!(template = name, line = e.line(), error = %e, "theme template failed; rendering the built-in one");
                let template = self.builtin.get_template(name)?;
                template.render(&context).with_context(|| format!("rendering {name}"))
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("rendering {name}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A theme template that does not compile is reported with its file and line, and the
    /// built-in one keeps rendering; fixing the file puts the theme's in place.
    #[test]
    fn a_broken_theme_file_is_reported_and_the_builtin_one_serves() {
        let dir = tempfile::tempdir().unwrap();
        let templates = Templates::with_theme(Some(dir.path().to_path_buf())).unwrap();
        assert!(!templates.reload_if_changed().0, "nothing changed");
        std::fs::write(dir.path().join("search.html"), "{% extends \"base.html\" %}\n{% block main %}\n{% if %}\n{% endblock %}").unwrap();
        let (changed, problems) = templates.reload_if_changed();
        assert!(changed);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].file.ends_with("search.html"), "{}", problems[0]);
        assert_eq!(problems[0].line, Some(3), "{}", problems[0]);
        let site = serde_json::json!({ "title": "ناشر", "description": "", "sections": [] });
        let html = templates.render("search.html", serde_json::json!({ "site": site })).unwrap();
        assert!(html.contains("<html"), "the built-in search page renders");
        // Same size, new content and time: still seen as a change.
        std::fs::write(dir.path().join("search.html"), "{% extends \"base.html\" %}{% block main %}<p>بحث-الثيم</p>{% endblock %}")
            .unwrap();
        assert!(templates.reload_if_changed().0);
        assert!(templates.render("search.html", serde_json::json!({ "site": site })).unwrap().contains("بحث-الثيم"));
    }
}
