//! Fuzz targets the archive fuzzing in `crate::fuzz` did not cover: the plain-text importer
//! and the editor's body markup, with random bytes and with inputs built from the tokens the
//! parsers look for. Cases per target: `NASHIR_FUZZ_CASES` (small by default, so `cargo test`
//! stays quick; `scripts/fuzz` runs many). A failing case is saved by proptest under
//! `proptest-regressions/` and replayed first on every later run: commit it.

use nashir::domain::Block;
use nashir::ingest::{markup, plaintext};
use proptest::prelude::*;

/// Cases per fuzz target: `NASHIR_FUZZ_CASES`, or `default` for an ordinary test run.
pub fn fuzz_cases(default: u32) -> u32 {
    std::env::var("NASHIR_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Lines that mean something to the plain-text and markup parsers, and bytes that trouble them.
fn pieces() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "## ",
        "> ",
        "intro: ",
        "![",
        "](",
        ")",
        "/media/a.jpg",
        "//evil.example/x.jpg",
        "/\\evil.example",
        "https://example.org/a.png",
        "اقرأ أيضاً: ",
        "«",
        "»",
        "\n",
        "\n\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "\u{0}",
        "\u{1b}",
        "\u{7f}",
        "\u{200f}",
        "\u{feff}",
        "وقال الوزير:",
        "خبر عاجل",
        "تابعونا على",
        "المصدر:",
        "x",
        "ـ",
        "\u{0651}",
        "🙂",
        "<script>",
        "&amp;",
    ])
    .prop_map(str::to_string)
}

fn built_text() -> impl Strategy<Value = String> {
    prop::collection::vec(pieces(), 0..80).prop_map(|p| p.concat())
}

/// A markup image may point at this site's media or at an absolute http(s) URL; never at
/// another host through a scheme-relative (`//host`) or backslash (`/\host`) path.
fn safe_src(src: &str) -> bool {
    let local = src.starts_with('/') && !src.starts_with("//") && !src.starts_with("/\\");
    local || src.starts_with("https://") || src.starts_with("http://")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(64), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plaintext_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        if let Ok(text) = plaintext::decode(&bytes) {
            let _ = plaintext::parse(&text, &|_, _| false);
        }
    }

    #[test]
    fn plaintext_never_panics_on_built_text(text in built_text()) {
        if let Ok(text) = plaintext::decode(text.as_bytes()) {
            let _ = plaintext::parse(&text, &|_, last| last.len() % 2 == 0);
        }
    }

    #[test]
    fn markup_never_panics_and_round_trips(text in built_text()) {
        let blocks = markup::parse(&text);
        // What the editor shows back is what it parses again: saving twice changes nothing.
        let again = markup::parse(&markup::serialize(&blocks));
        prop_assert_eq!(&again, &markup::parse(&markup::serialize(&again)));
    }

    #[test]
    fn markup_on_random_unicode(text in "\\PC{0,400}") {
        let _ = markup::serialize(&markup::parse(&text));
    }
}

/// Finding 8: image URLs in the body markup accepted `//host` and `/\host`, which browsers
/// load from another site. (Fails until the URL parsing fix is merged.)
#[test]
fn markup_images_never_point_at_another_host() {
    for src in ["//evil.example/x.jpg", "/\\evil.example/x.jpg", "javascript:alert(1)", "data:image/png;base64,AAAA"] {
        for block in markup::parse(&format!("![صورة]({src})")) {
            if let Block::Image { src, .. } = block {
                assert!(safe_src(&src), "markup kept an unsafe image source {src:?}");
            }
        }
    }
}
