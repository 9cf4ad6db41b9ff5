//! The demo newsroom: original articles written for Nashir (see `demo/manifest.toml`),
//! embedded in the binary and imported through the same plain-text importer as real files.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::ingest::{self, ImportOptions};
use crate::store::Store;

const MANIFEST: &str = include_str!("../demo/manifest.toml");

const FILES: &[(&str, &str)] = &[
    ("articles/01-istanbul-black-sea-talks.txt", include_str!("../demo/articles/01-istanbul-black-sea-talks.txt")),
    ("articles/02-libya-geneva-talks.txt", include_str!("../demo/articles/02-libya-geneva-talks.txt")),
    ("articles/03-wadi-alrayhan-crossing.txt", include_str!("../demo/articles/03-wadi-alrayhan-crossing.txt")),
    ("articles/04-transit-trucks-return.txt", include_str!("../demo/articles/04-transit-trucks-return.txt")),
    ("articles/05-olive-oil-season.txt", include_str!("../demo/articles/05-olive-oil-season.txt")),
    ("articles/06-solar-microloans-homs.txt", include_str!("../demo/articles/06-solar-microloans-homs.txt")),
    ("articles/07-shoala-tops-league.txt", include_str!("../demo/articles/07-shoala-tops-league.txt")),
    ("articles/08-irbid-runner-record.txt", include_str!("../demo/articles/08-irbid-runner-record.txt")),
    ("articles/09-arz-basketball-final.txt", include_str!("../demo/articles/09-arz-basketball-final.txt")),
    ("articles/10-khashaba-theatre-festival.txt", include_str!("../demo/articles/10-khashaba-theatre-festival.txt")),
    ("articles/11-aleppo-manuscripts.txt", include_str!("../demo/articles/11-aleppo-manuscripts.txt")),
    ("articles/12-salt-on-the-threshold-prize.txt", include_str!("../demo/articles/12-salt-on-the-threshold-prize.txt")),
    ("articles/13-rifq-pharmacy-app.txt", include_str!("../demo/articles/13-rifq-pharmacy-app.txt")),
    ("articles/14-levantine-language-model.txt", include_str!("../demo/articles/14-levantine-language-model.txt")),
    ("articles/15-telecom-towers-winter.txt", include_str!("../demo/articles/15-telecom-towers-winter.txt")),
];

#[derive(Deserialize)]
struct Manifest {
    site: DemoSite,
    section: Vec<DemoSection>,
    author: Vec<DemoAuthor>,
    article: Vec<DemoArticle>,
}

#[derive(Deserialize)]
pub struct DemoSite {
    pub title: String,
    pub description: String,
}

#[derive(Deserialize)]
struct DemoSection {
    slug: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct DemoAuthor {
    slug: String,
    name: String,
    bio: String,
}

#[derive(Deserialize)]
struct DemoArticle {
    file: String,
    section: String,
    authors: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    published_at: DateTime<Utc>,
}

fn manifest() -> anyhow::Result<Manifest> {
    toml::from_str(MANIFEST).context("demo manifest")
}

/// The demo site's name and description, for the config of a demo run.
pub fn site() -> anyhow::Result<DemoSite> {
    Ok(manifest()?.site)
}

/// Fills an empty store with the demo newsroom. Returns how many articles were imported.
pub async fn populate(store: &Store) -> anyhow::Result<usize> {
    let manifest = manifest()?;
    for (position, s) in manifest.section.iter().enumerate() {
        store.upsert_section(&s.slug, &s.name, &s.description, position as i64).await?;
    }
    for a in &manifest.author {
        store.upsert_author(&a.slug, &a.name, &a.bio).await?;
    }
    let section_name = |slug: &str| manifest.section.iter().find(|s| s.slug == slug).map(|s| s.name.clone());
    let author_name = |slug: &str| manifest.author.iter().find(|a| a.slug == slug).map(|a| a.name.clone());
    // Oldest first, so read-also links point at articles that already exist.
    let mut articles: Vec<&DemoArticle> = manifest.article.iter().collect();
    articles.sort_by_key(|a| a.published_at);
    for article in &articles {
        let text = FILES
            .iter()
            .find(|(name, _)| *name == article.file)
            .map(|(_, text)| *text)
            .with_context(|| format!("demo file {} is not embedded", article.file))?;
        let options = ImportOptions {
            section: section_name(&article.section),
            authors: article.authors.iter().filter_map(|a| author_name(a)).collect(),
            tags: article.tags.clone(),
            published_at: Some(article.published_at),
        };
        ingest::import_text(store, text.as_bytes(), &format!("demo:{}", article.file), &article.file, &options)
            .await
            .with_context(|| format!("demo article {}", article.file))?;
    }
    Ok(articles.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_file_is_embedded_and_parses() {
        let m = manifest().unwrap();
        assert!(m.article.len() >= 12);
        for a in &m.article {
            let (_, text) = FILES.iter().find(|(n, _)| *n == a.file).expect("embedded");
            ingest::plaintext::parse(text, &|_, _| false).unwrap();
            assert!(m.section.iter().any(|s| s.slug == a.section));
        }
    }
}
