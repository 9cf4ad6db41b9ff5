//! The archive parsers meet random and mutated bytes and must answer with records, never a
//! panic or a hang.

use std::sync::OnceLock;

use nashir::ingest::record::{ParseOptions, Record};
use nashir::ingest::{ghost, html, jsonl, sample, wxr};
use proptest::prelude::*;

fn samples() -> &'static (Vec<u8>, Vec<u8>, Vec<u8>) {
    static SAMPLES: OnceLock<(Vec<u8>, Vec<u8>, Vec<u8>)> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let mut wxr = Vec::new();
        sample::write_wxr(&mut wxr, 6).unwrap();
        let ghost = serde_json::to_vec(&sample::ghost_export(4).0).unwrap();
        let jsonl = "{\"id\":\"x-1-20180101\",\"title\":\"عنوان\",\"body\":\"سطر أول.\\nاقرأ أيضاً: شيء\\n«قول»\",\"category\":\"sport\"}\n"
            .repeat(3)
            .into_bytes();
        (wxr, ghost, jsonl)
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
}

fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::Replace(at, b) => {
                if let Some(slot) = bytes.get_mut(at % len) {
                    *slot = *b;
                }
            }
            Edit::Delete(at, n) => {
                let start = (at % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Edit::Insert(at, ins) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, ins.iter().copied());
            }
            Edit::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let tokens = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"]]>".to_vec(),
        b"<![CDATA[".to_vec(),
        b"</item>".to_vec(),
        b"<item>".to_vec(),
        b"&".to_vec(),
        b"&amp;".to_vec(),
        b"\"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"\n".to_vec(),
        vec![0xff, 0xfe],
        "اقرأ أيضاً".as_bytes().to_vec(),
        b"<script>".to_vec(),
        b"<blockquote>".to_vec(),
    ]);
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Replace(a, b)),
            (any::<usize>(), 0usize..64).prop_map(|(a, n)| Edit::Delete(a, n)),
            (any::<usize>(), tokens).prop_map(|(a, t)| Edit::Insert(a, t)),
            any::<usize>().prop_map(Edit::Truncate),
        ],
        1..8,
    )
}

fn drain(records: impl Iterator<Item = Record>) -> usize {
    records.take(100_000).count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::security::fuzz_cases(128), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        drain(wxr::records(&bytes[..], ParseOptions::default()));
        drain(ghost::records(&bytes[..], ParseOptions::default()));
        drain(jsonl::records(&bytes[..]));
        let _ = html::to_blocks(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_wxr_never_panics(edits in edits()) {
        let bytes = mutate(samples().0.clone(), &edits);
        drain(wxr::records(&bytes[..], ParseOptions { include_pages: true, ..ParseOptions::default() }));
    }

    #[test]
    fn mutated_ghost_never_panics(edits in edits()) {
        let bytes = mutate(samples().1.clone(), &edits);
        drain(ghost::records(&bytes[..], ParseOptions::default()));
    }

    #[test]
    fn mutated_jsonl_never_panics(edits in edits()) {
        let bytes = mutate(samples().2.clone(), &edits);
        drain(jsonl::records(&bytes[..]));
    }

    #[test]
    fn mutated_html_never_panics(edits in edits()) {
        let wxr = String::from_utf8_lossy(&samples().0).into_owned();
        let bytes = mutate(wxr.into_bytes(), &edits);
        let blocks = html::to_blocks(&String::from_utf8_lossy(&bytes));
        for block in blocks {
            if let nashir::domain::Block::Image { src, .. } = block {
                prop_assert!(src.starts_with("http") || src.starts_with('/'), "unsafe image {src}");
            }
        }
    }
}
