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

/// The article the demo pins as «الخبر الرئيسي» (not the newest: the pin is seen to win).
const PINNED_LEAD: &str = "articles/02-libya-geneva-talks.txt";
/// The demo's breaking-news bar, linking to the pinned story; it expires after six hours.
const BREAKING_TEXT: &str = "عاجل تجريبي: استئناف جولة الحوار الليبي في جنيف صباح الغد";
const BREAKING_HOURS: i64 = 6;

/// Fills an empty store with the demo newsroom, without pictures (tests that need only the
/// text). Returns how many articles were imported.
pub async fn populate(store: &Store) -> anyhow::Result<usize> {
    populate_in(store, None).await
}

/// Fills an empty store with the demo newsroom; with a media folder, every article gets a
/// featured picture drawn by [`art::featured`] and stored with its variants like an upload.
/// Also pins a lead story and sets a breaking-news bar that expires.
pub async fn populate_in(store: &Store, media_dir: Option<&std::path::Path>) -> anyhow::Result<usize> {
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
    // All pictures first, drawn on every core at once.
    let pictures = match media_dir {
        Some(dir) => {
            let wanted = articles.iter().map(|a| (a.section.clone(), section_name(&a.section).unwrap_or_default())).collect();
            Some(art::store_all(dir, wanted).await?)
        }
        None => None,
    };
    let mut pinned = None;
    for (index, article) in articles.iter().enumerate() {
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
        let text = match pictures.as_ref().and_then(|p| p.get(index)) {
            Some((src, alt)) => with_image(text, &format!("![{alt}]({src})")),
            None => text.to_string(),
        };
        let imported = ingest::import_text(store, text.as_bytes(), &format!("demo:{}", article.file), &article.file, &options)
            .await
            .with_context(|| format!("demo article {}", article.file))?;
        if article.file == PINNED_LEAD {
            pinned = Some(imported.id);
        }
    }
    if let Some(id) = pinned {
        store.pin_lead(Some(id)).await?;
        let link =
            store.published_article(&id.to_string()).await?.map(|a| crate::render::paths::article(a.slug.as_str())).unwrap_or_default();
        let news =
            crate::store::BreakingNews { text: BREAKING_TEXT.into(), link, expires_at: crate::domain::now_secs() + BREAKING_HOURS * 3600 };
        store.set_breaking_news(Some(&news)).await?;
    }
    Ok(articles.len())
}

/// The article's text with an image line after its first real paragraph (the lead), where a
/// featured picture stands on news sites. Some demo files repeat the headline, as scraped
/// pages do: that line is not the lead.
fn with_image(text: &str, image_line: &str) -> String {
    let mut parts: Vec<&str> = text.split("\n\n").collect();
    let headline = parts.first().map(|h| h.trim()).unwrap_or("");
    let lead = parts.iter().skip(1).position(|p| !p.trim().is_empty() && p.trim() != headline).map_or(parts.len(), |i| i + 2);
    parts.insert(lead.min(parts.len()), image_line);
    parts.join("\n\n")
}

/// Featured pictures for the demo, drawn here: a gradient sky in the section's colours, soft
/// discs and layered waves placed by a seeded generator. Never a downloaded photo.
mod art {
    use std::path::Path;

    use anyhow::Context;

    /// 3:2, as cards show pictures; wide enough for the article column on a 2x screen.
    const WIDTH: u32 = 960;
    const HEIGHT: u32 = 640;

    /// Two colours per section (top, bottom) and the Arabic name of the palette, for alt text.
    fn palette(section: &str) -> ([f32; 3], [f32; 3], &'static str) {
        match section {
            "politics" => ([20.0, 44.0, 92.0], [196.0, 86.0, 64.0], "الأزرق الداكن والأحمر الترابي"),
            "economy" => ([16.0, 92.0, 80.0], [232.0, 190.0, 96.0], "الأخضر الزيتي والذهبي"),
            "sport" => ([10.0, 110.0, 60.0], [240.0, 240.0, 220.0], "أخضر الملاعب والأبيض"),
            "culture" => ([90.0, 30.0, 90.0], [244.0, 160.0, 120.0], "البنفسجي والمرجاني"),
            _ => ([12.0, 20.0, 40.0], [60.0, 180.0, 220.0], "الكحلي والسماوي"),
        }
    }

    /// A small deterministic generator (xorshift): the same article always gets the same art.
    struct Seeded(u64);

    impl Seeded {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    /// Draws the picture of the `index`th article as JPEG bytes. Written as plain loops over
    /// a byte buffer, with the waves computed once per column: `nashir demo` runs unoptimised
    /// in tests and the site audit, and must start in seconds.
    pub fn featured(index: u64, section: &str) -> Vec<u8> {
        let (top, bottom, _) = palette(section);
        let mut rng = Seeded(0x9e37_79b9_7f4a_7c15 ^ (index + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        let discs: Vec<(f32, f32, f32, f32)> = (0..4)
            .map(|_| (rng.next() * w as f32, rng.next() * h as f32 * 0.6, 50.0 + rng.next() * 150.0, 0.15 + rng.next() * 0.3))
            .collect();
        // Where each of three waves starts, per column; below it the colour darkens a step.
        let mut surfaces = vec![[0usize; 3]; w];
        for i in 0..3 {
            let (level, freq, phase, amp) =
                (0.55 + 0.13 * i as f32, 0.005 + rng.next() * 0.01, rng.next() * std::f32::consts::TAU, 16.0 + rng.next() * 32.0);
            for (x, surface) in surfaces.iter_mut().enumerate() {
                surface[i] = (level * h as f32 + (x as f32 * freq + phase).sin() * amp).max(0.0) as usize;
            }
        }
        let mut pixels = vec![0u8; w * h * 3];
        for y in 0..h {
            let row_t = y as f32 / h as f32 * 0.8;
            for (x, column) in surfaces.iter().enumerate() {
                let t = row_t + x as f32 / w as f32 * 0.2;
                let mut c = [top[0] + (bottom[0] - top[0]) * t, top[1] + (bottom[1] - top[1]) * t, top[2] + (bottom[2] - top[2]) * t];
                for &(cx, cy, r, alpha) in &discs {
                    let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                    if dx * dx + dy * dy < r * r {
                        c = [c[0] + (255.0 - c[0]) * alpha, c[1] + (255.0 - c[1]) * alpha, c[2] + (255.0 - c[2]) * alpha];
                    }
                }
                for (i, surface) in column.iter().enumerate() {
                    if y > *surface {
                        let shade = 0.25 + 0.2 * i as f32;
                        c = [
                            c[0] * (1.0 - shade) + top[0] * 0.6 * shade,
                            c[1] * (1.0 - shade) + top[1] * 0.6 * shade,
                            c[2] * (1.0 - shade) + top[2] * 0.6 * shade,
                        ];
                    }
                }
                let at = (y * w + x) * 3;
                pixels[at] = c[0].clamp(0.0, 255.0) as u8;
                pixels[at + 1] = c[1].clamp(0.0, 255.0) as u8;
                pixels[at + 2] = c[2].clamp(0.0, 255.0) as u8;
            }
        }
        let mut bytes = Vec::new();
        if let Some(image) = image::RgbImage::from_raw(WIDTH, HEIGHT, pixels) {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
            // Encoding into memory cannot fail for an RGB image of this size.
            let _ = image.write_with_encoder(encoder);
        }
        bytes
    }

    /// Draws and stores one picture per `(section slug, section name)`, like uploads (variants
    /// made), on every core; returns each one's address and Arabic alt text, in order.
    pub async fn store_all(media_dir: &Path, wanted: Vec<(String, String)>) -> anyhow::Result<Vec<(String, String)>> {
        let dir = media_dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let chunk = wanted.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                let workers: Vec<_> = wanted
                    .chunks(chunk)
                    .enumerate()
                    .map(|(c, items)| {
                        let dir = &dir;
                        scope.spawn(move || -> anyhow::Result<Vec<(String, String)>> {
                            items
                                .iter()
                                .enumerate()
                                .map(|(i, (slug, name))| draw_and_store(dir, (c * chunk + i) as u64, slug, name))
                                .collect()
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for worker in workers {
                    all.extend(worker.join().map_err(|_| anyhow::anyhow!("drawing a demo picture panicked"))??);
                }
                Ok(all)
            })
        })
        .await
        .context("drawing the demo pictures")?
    }

    fn draw_and_store(dir: &Path, index: u64, section_slug: &str, section_name: &str) -> anyhow::Result<(String, String)> {
        let bytes = featured(index, section_slug);
        let checked =
            crate::media::check(&bytes, Some("demo.jpg"), Some("image/jpeg"), 16 * 1024 * 1024).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let stored = crate::media::imaging::store_upload(dir, &bytes, &checked)?;
        let (_, _, colours) = palette(section_slug);
        let alt = format!("رسم تجريدي لقسم {section_name}: دوائر ضوئية فوق أمواج متتابعة بألوان {colours}");
        Ok((format!("/media/{}", stored.file_name), alt))
    }
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

    #[test]
    fn the_picture_goes_after_the_lead_even_when_the_headline_repeats() {
        let text = "عنوان\n\nعنوان\n\nالفقرة الأولى.\n\nالثانية.";
        assert_eq!(with_image(text, "![x](/media/a.jpg)"), "عنوان\n\nعنوان\n\nالفقرة الأولى.\n\n![x](/media/a.jpg)\n\nالثانية.");
        let plain = "عنوان\n\nالفقرة الأولى.\n\nالثانية.";
        assert_eq!(with_image(plain, "I"), "عنوان\n\nالفقرة الأولى.\n\nI\n\nالثانية.");
    }
}
