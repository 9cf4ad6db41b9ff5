//! The order of the crate's top-level modules, and the test that holds the code to it.
//!
//! A module may use another only when that one has a strictly lower rank, so dependencies
//! point one way and no two modules import each other, directly or around a circle:
//!
//! | rank | modules | what they are |
//! |------|---------|---------------|
//! | 0 | `domain`, `entities` | types and pure computations that know no other module |
//! | 1 | `config`, `metrics` | every setting, one file per section; counters (they read the one clock in `domain`) |
//! | 2 | `store`, `render` | all SQL; all escaping, URLs, dates and the template environment |
//! | 3 | `accounts`, `media`, `search` | passwords and tokens; uploaded images; the search index |
//! | 4 | `related`, `mail` | related articles and duplicates; outgoing mail |
//! | 5 | `ingest`, `newsletter` | importers; the newsletter |
//! | 6 | `demo`, `tasks` | the demo newsroom; background loops (the scheduler) |
//! | 7 | `web` | HTTP |
//! | 8 | `cli` | the command line |
//!
//! `lib.rs` and `main.rs` sit on top. Modules of one rank do not use each other. The test
//! reads the source, not the compiler's view: every `crate::` path (in `use` lines, braced
//! groups spread over lines, or inline in code) and every `super::` path that climbs to the
//! crate root; comments and string literals are skipped.

/// `(module, rank)`: a module may use only modules of a strictly lower rank.
pub const ORDER: &[(&str, u8)] = &[
    ("domain", 0),
    ("entities", 0),
    ("metrics", 1),
    ("config", 1),
    ("store", 2),
    ("render", 2),
    ("accounts", 3),
    ("media", 3),
    ("search", 3),
    ("related", 4),
    ("mail", 4),
    ("ingest", 5),
    ("newsletter", 5),
    ("demo", 6),
    ("tasks", 6),
    ("web", 7),
    ("cli", 8),
];

/// Imports against the order that are known and scheduled to go, as `(file, used module, why)`.
/// The test fails when one of them is no longer needed, so the list only shrinks.
const PENDING: &[(&str, &str, &str)] = &[];

/// One use of a top-level module found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub line: usize,
    pub module: String,
}

/// Replaces comments and the contents of string and character literals with spaces, keeping
/// line breaks, so paths are only found in code.
fn code_only(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && (i == 0 || !is_ident(chars[i - 1])) {
            // A raw string r"…" or r#"…"#: ends at a quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#'))) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(chars.len());
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'); anything else is a lifetime.
            let end = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.extend(std::iter::repeat_n(' ', end + 1 - i));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The top-level modules named by the paths in `src`, a file whose module path is `file_module`
/// (`["web", "admin", "api"]` for `web/admin/api.rs`, `["web"]` for `web/mod.rs`).
pub fn uses(src: &str, file_module: &[&str]) -> Vec<Use> {
    let code: Vec<char> = code_only(src).chars().collect();
    let line_at = |i: usize| code[..i].iter().filter(|&&c| c == '\n').count() + 1;
    let word_at = |i: usize| -> String { code[i..].iter().take_while(|&&c| is_ident(c)).collect() };
    let skip_space = |mut i: usize| {
        while i < code.len() && code[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let mut found = Vec::new();
    // Inline modules (`mod tests { … }`) deepen the path that `super::` climbs from.
    let mut inline: Vec<usize> = Vec::new(); // the brace depth inside each
    let mut depth = 0usize;
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        let at_word_start = i == 0 || !(is_ident(code[i - 1]) || code[i - 1] == ':');
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            if inline.last() == Some(&depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
        } else if at_word_start && word_at(i) == "mod" {
            let name_at = skip_space(i + 3);
            let name = word_at(name_at);
            let after = skip_space(name_at + name.len());
            if !name.is_empty() && code.get(after) == Some(&'{') {
                inline.push(depth + 1);
            }
        } else if at_word_start && (word_at(i) == "crate" || word_at(i) == "super") {
            let mut j = i;
            let mut supers = 0;
            let mut rooted = false;
            loop {
                let w = word_at(j);
                let after = j + w.len();
                if code.get(after) != Some(&':') || code.get(after + 1) != Some(&':') {
                    break;
                }
                match w.as_str() {
                    "crate" if j == i => rooted = true,
                    "super" if !rooted => supers += 1,
                    _ => break,
                }
                j = skip_space(after + 2);
                if rooted {
                    break;
                }
            }
            let here = file_module.len() + inline.len();
            if rooted || (supers > 0 && supers == here) {
                found.extend(top_level_names(&code, j).into_iter().map(|(at, module)| Use { line: line_at(at), module }));
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    found
}

/// The first segment of the path at `i`, or of each item of a `{…}` group there.
fn top_level_names(code: &[char], i: usize) -> Vec<(usize, String)> {
    let word = |i: usize| -> String { code[i..].iter().take_while(|&&c| is_ident(c)).collect() };
    if code.get(i) != Some(&'{') {
        let w = word(i);
        return if w.is_empty() || w == "self" { Vec::new() } else { vec![(i, w)] };
    }
    let mut names = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    let mut j = i;
    while j < code.len() {
        match code[j] {
            '{' => {
                depth += 1;
                expect_item = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_item = true,
            c if expect_item && depth == 1 && is_ident(c) => {
                let w = word(j);
                if w != "self" {
                    names.push((j, w.clone()));
                }
                expect_item = false;
                j += w.len();
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    names
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn rank(module: &str) -> Option<u8> {
        ORDER.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// `web/admin/api.rs` → `["web", "admin", "api"]`; `web/mod.rs` → `["web"]`.
    fn module_path(relative: &str) -> Vec<&str> {
        let mut parts: Vec<&str> = relative.trim_end_matches(".rs").split('/').collect();
        if parts.last() == Some(&"mod") {
            parts.pop();
        }
        parts
    }

    #[test]
    fn modules_use_only_lower_ranks() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        files.sort();
        let mut wrong = Vec::new();
        let mut pending_seen = vec![false; PENDING.len()];
        for file in &files {
            let relative = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            if ["lib.rs", "main.rs", "layers.rs"].contains(&relative.as_str()) {
                continue;
            }
            let module = module_path(&relative);
            let top = module[0];
            let Some(own) = rank(top) else {
                wrong.push(format!("{relative}: module `{top}` has no rank; add it to layers::ORDER"));
                continue;
            };
            for u in uses(&std::fs::read_to_string(file).unwrap(), &module) {
                if u.module == top {
                    continue;
                }
                let Some(used) = rank(&u.module) else {
                    wrong.push(format!(
                        "{relative}:{}: `{top}` uses `crate::{}`, which is not a module in layers::ORDER (name the module, not a re-export)",
                        u.line, u.module
                    ));
                    continue;
                };
                if used < own {
                    continue;
                }
                if let Some(k) = PENDING.iter().position(|(f, m, _)| *f == relative && *m == u.module) {
                    pending_seen[k] = true;
                    continue;
                }
                wrong.push(format!(
                    "{relative}:{}: `{top}` (rank {own}) uses `{}` (rank {used}); only lower ranks may be used",
                    u.line, u.module
                ));
            }
        }
        for (k, (file, module, why)) in PENDING.iter().enumerate() {
            if !pending_seen[k] {
                wrong.push(format!("layers::PENDING: {file} no longer uses `{module}` ({why}); remove the entry"));
            }
        }
        assert!(wrong.is_empty(), "imports against the order of modules (see src/layers.rs):\n{}", wrong.join("\n"));
    }

    #[test]
    fn every_module_of_lib_rs_has_a_rank() {
        let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
        for line in lib.lines() {
            if let Some(name) = line.trim().strip_prefix("pub mod ").and_then(|l| l.strip_suffix(';')) {
                assert!(rank(name).is_some(), "module `{name}` of lib.rs has no rank in layers::ORDER");
            }
        }
    }

    fn names(src: &str, module: &[&str]) -> Vec<(usize, String)> {
        uses(src, module).into_iter().map(|u| (u.line, u.module)).collect()
    }

    #[test]
    fn finds_use_lines_groups_and_inline_paths() {
        let src = "use crate::store::Store;\nuse crate::{\n    web::view::{A, B},\n    config::Config,\n    self,\n};\nfn f() { crate::render::escape_html(\"x\"); }\nfn g(s: crate::Store) {}\n";
        assert_eq!(
            names(src, &["mail"]),
            vec![(1, "store".into()), (3, "web".into()), (4, "config".into()), (7, "render".into()), (8, "Store".into())]
        );
    }

    #[test]
    fn finds_super_paths_that_reach_the_crate_root() {
        let src = "use super::web::x;\nmod tests {\n    use super::*;\n    use super::super::store::S;\n}\n";
        // From `mail/mod.rs`, `super` is the crate root; inside `mod tests`, `super::super` is.
        assert_eq!(names(src, &["mail"]), vec![(1, "web".into()), (4, "store".into())]);
        // From `web/admin/api.rs`, `super::super` stays inside `web`.
        assert!(names("use super::super::error::X;", &["web", "admin", "api"]).is_empty());
    }

    #[test]
    fn skips_comments_strings_and_visibility() {
        let src = "// crate::web::x\n/* crate::web /* nested */ crate::cli */\npub(crate) fn f<'a>(s: &'a str) -> char {\n    let _ = \"crate::web::x\";\n    let _ = r#\"crate::cli \"q\"\"#;\n    let _ = '\"'; crate::domain::x(); '{'\n}\n";
        assert_eq!(names(src, &["mail"]), vec![(6, "domain".into())]);
    }
}
