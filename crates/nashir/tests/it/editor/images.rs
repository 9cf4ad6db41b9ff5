//! Uploaded images are resized to a few widths at upload, re-encoded without their metadata,
//! and pages offer them in `srcset`; pixel bombs are refused; older uploads still show.

use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use nashir::editor::accounts::Role;

use super::{add_user, article_fields, Admin};
use crate::helpers::TestApp;
use crate::storage_test;

/// A real JPEG (a gradient, so the encoder has something to do) with a comment segment
/// standing in for the metadata a camera writes.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
    let bytes = out.into_inner();
    let comment = b"GPS 33.5138N 36.2765E secret-source-location";
    let mut with_comment = bytes[..2].to_vec();
    with_comment.extend_from_slice(&[0xFF, 0xFE]);
    with_comment.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
    with_comment.extend_from_slice(comment);
    with_comment.extend_from_slice(&bytes[2..]);
    with_comment
}

/// A real PNG with transparency.
pub fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| Rgba([200, (x % 256) as u8, (y % 256) as u8, if x < width / 2 { 255 } else { 40 }]));
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img).write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A JPEG whose EXIF says "rotate 90° clockwise to show", as phones write portrait photos.
fn jpeg_rotated(width: u32, height: u32) -> Vec<u8> {
    let plain = jpeg(width, height);
    // APP1 "Exif": a big-endian TIFF header and one IFD entry, Orientation (0x0112) = 6.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A lossless WebP with transparency.
fn webp_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, _| Rgba([0, 0, 0, if x < width / 2 { 255 } else { 0 }]));
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img).write_to(&mut out, ImageFormat::WebP).unwrap();
    out.into_inner()
}

/// The `/media/…` path of the markup an upload page offers.
fn uploaded_src(html: &str) -> String {
    let at = html.find("](/media/").expect("upload page shows the markup") + 2;
    html[at..].split(')').next().unwrap().to_string()
}

fn media_dir(app: &TestApp) -> std::path::PathBuf {
    app.config.data_dir.join("media")
}

fn decoded(app: &TestApp, name: &str) -> DynamicImage {
    image::load_from_memory(&std::fs::read(media_dir(app).join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap()
}

async fn variants_are_made_and_offered(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;

    let photo = jpeg(2000, 1200);
    let (status, html) = e.upload("photo.jpg", "image/jpeg", &photo, "ساحة المدينة").await;
    assert_eq!(status, 201, "{html}");
    let photo_src = uploaded_src(&html);
    assert!(photo_src.ends_with("-2000x1200.jpg"), "{photo_src}");
    let stem = photo_src.trim_start_matches("/media/").trim_end_matches(".jpg").to_string();
    for (w, h) in [(480, 288), (960, 576), (1600, 960)] {
        let name = format!("{stem}-{w}w.jpg");
        let img = decoded(&app, &name);
        assert_eq!(img.dimensions(), (w, h), "{name}");
        let bytes = std::fs::read(media_dir(&app).join(&name)).unwrap();
        assert!(!bytes.windows(13).any(|win| win == b"secret-source"), "{name} kept the original's metadata");
    }
    assert!(!media_dir(&app).join(format!("{stem}-2000w.jpg")).exists(), "never upscaled, and 1600 is the widest");

    let logo = png_with_alpha(700, 350);
    let (status, html) = e.upload("logo.png", "image/png", &logo, "شعار البلدية").await;
    assert_eq!(status, 201, "{html}");
    let logo_src = uploaded_src(&html);
    let logo_stem = logo_src.trim_start_matches("/media/").trim_end_matches(".png").to_string();
    for (w, h) in [(480, 240), (700, 350)] {
        let img = decoded(&app, &format!("{logo_stem}-{w}w.png"));
        assert_eq!(img.dimensions(), (w, h));
        assert!(img.color().has_alpha(), "transparency kept");
    }
    assert!(!media_dir(&app).join(format!("{logo_stem}-960w.png")).exists(), "never upscaled");

    // A WebP becomes JPEG variants, its transparent half laid on white.
    let (status, html) = e.upload("mark.webp", "image/webp", &webp_with_alpha(1000, 500), "علامة").await;
    assert_eq!(status, 201, "{html}");
    let webp_stem = uploaded_src(&html).trim_start_matches("/media/").trim_end_matches(".webp").to_string();
    let widest = decoded(&app, &format!("{webp_stem}-1000w.jpg")).to_rgb8();
    assert_eq!(widest.dimensions(), (1000, 500));
    let (dark, light) = (widest.get_pixel(100, 250).0, widest.get_pixel(900, 250).0);
    assert!(dark.iter().all(|c| *c < 40) && light.iter().all(|c| *c > 215), "{dark:?} {light:?}");

    // A portrait photo stored sideways with an EXIF orientation is named and resized upright.
    let (status, html) = e.upload("portrait.jpg", "image/jpeg", &jpeg_rotated(600, 400), "صورة طولية").await;
    assert_eq!(status, 201, "{html}");
    let portrait = uploaded_src(&html);
    assert!(portrait.ends_with("-400x600.jpg"), "{portrait}");
    let upright = portrait.trim_start_matches("/media/").replace(".jpg", "-400w.jpg");
    assert_eq!(decoded(&app, &upright).dimensions(), (400, 600));

    // The photo as featured image, the logo in the body: both get srcset, width and height.
    let body = format!("فقرة أولى.\n\n![شعار البلدية]({logo_src})\nشعار جديد");
    let mut fields = article_fields("خبر بصورتين", &body, "published");
    fields.push(("featured_src", &photo_src));
    fields.push(("featured_alt", "ساحة المدينة"));
    let id = e.create(&fields).await;
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let (status, page) = app.get_text(&format!("/news/{slug}")).await;
    assert_eq!(status, 200);
    let photo_img = format!(
        "<img src=\"/media/{stem}-1600w.jpg\" alt=\"ساحة المدينة\" width=\"1600\" height=\"960\" \
         srcset=\"/media/{stem}-480w.jpg 480w, /media/{stem}-960w.jpg 960w, /media/{stem}-1600w.jpg 1600w\" \
         sizes=\"(max-width: 48rem) 100vw, 48rem\" loading=\"lazy\""
    );
    assert!(page.contains(&photo_img), "{page}");
    let logo_img = format!(
        "<img src=\"/media/{logo_stem}-700w.png\" alt=\"شعار البلدية\" width=\"700\" height=\"350\" \
         srcset=\"/media/{logo_stem}-480w.png 480w, /media/{logo_stem}-700w.png 700w\""
    );
    assert!(page.contains(&logo_img), "{page}");
    assert!(!page.contains(&format!("{photo_src}\"")), "pages never link the original, metadata and all");
    assert!(page.contains(&format!("og:image\" content=\"{}/media/{stem}-1600w.jpg\"", app.base)), "{page}");

    let resp = app.get(&format!("/media/{stem}-960w.jpg")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert!(resp.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let resp = app.get(&format!("/media/{logo_stem}-700w.png")).await;
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (200, "image/png"));
    // Names that are not exactly a variant of an upload are not served.
    for bad in [format!("{stem}-333w.jpg"), format!("{stem}-480w.png"), format!("{stem}-480w.jpg.exe"), format!("{stem}-2000w.jpg")] {
        assert_eq!(app.get(&format!("/media/{bad}")).await.status(), 404, "{bad}");
    }

    // Feeds carry the largest variant, absolute.
    let (_, feed) = app.get_text("/feed.json").await;
    assert!(feed.contains(&format!("{}/media/{stem}-1600w.jpg", app.base)), "{feed}");

    // The JSON API describes the same image.
    let (_, json) = app.get_json(&format!("/api/v1/articles/{id}")).await;
    let first = &json["body"][0];
    assert_eq!(first["src"], format!("/media/{stem}-1600w.jpg"));
    assert_eq!((first["width"].as_u64(), first["height"].as_u64()), (Some(1600), Some(960)));
    assert!(first["srcset"].as_str().unwrap().contains("480w"));
}
storage_test!(variants_are_made_and_offered);

async fn pixel_bombs_and_broken_images_are_refused(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    // 63 bytes that claim 100000 × 100000 pixels: 40 GB once decoded.
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bomb.extend_from_slice(b"\x00\x00\x00\x0aIDATx\x9c\x63\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00IEND\xaeB`\x82");
    let files_before = std::fs::read_dir(media_dir(&app)).map(|d| d.count()).unwrap_or(0);
    let (status, html) = e.upload("bomb.png", "image/png", &bomb, "قنبلة").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("100000×100000") && html.contains("ميغابكسل"), "{html}");
    // Within the pixel budget but not a whole image: cut off after the header.
    let cut = &jpeg(800, 600)[..400];
    let (status, html) = e.upload("cut.jpg", "image/jpeg", cut, "مقطوعة").await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("تالف"), "{html}");
    assert_eq!(std::fs::read_dir(media_dir(&app)).map(|d| d.count()).unwrap_or(0), files_before, "nothing written");
    let listed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(listed, 0);
}
storage_test!(pixel_bombs_and_broken_images_are_refused);

/// Uploads stored before there were variants: pages offer the variants all the same, and the
/// first request makes them; an original that cannot be resized is served in their place.
async fn older_uploads_still_show(app: TestApp) {
    add_user(&app, "e@example.org", "محرر", Role::Editor).await;
    let e = Admin::login(&app, "e@example.org").await;
    let dir = media_dir(&app);
    std::fs::create_dir_all(&dir).unwrap();
    let old = "0123456789abcdef0123-1000x500.png";
    let mut bytes = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_pixel(1000, 500, Rgb([10, 120, 200]))).write_to(&mut bytes, ImageFormat::Png).unwrap();
    std::fs::write(dir.join(old), bytes.into_inner()).unwrap();
    // Named as a JPEG of 900×600, but not one: resizing fails, the bytes are served as they are.
    let broken = "fedcba9876543210fedc-900x600.jpg";
    std::fs::write(dir.join(broken), b"\xFF\xD8\xFF not really a jpeg").unwrap();

    let body = format!("فقرة.\n\n![قديمة](/media/{old})\n\n![تالفة](/media/{broken})");
    let id = e.create(&article_fields("خبر بصور قديمة", &body, "published")).await;
    let slug = app.store.article_by_id(id).await.unwrap().unwrap().slug;
    let (_, page) = app.get_text(&format!("/news/{slug}")).await;
    let stem = old.trim_end_matches(".png");
    assert!(
        page.contains(&format!("srcset=\"/media/{stem}-480w.png 480w, /media/{stem}-960w.png 960w, /media/{stem}-1000w.png 1000w\"")),
        "{page}"
    );
    assert!(!dir.join(format!("{stem}-480w.png")).exists());
    let resp = app.get(&format!("/media/{stem}-480w.png")).await;
    assert_eq!(resp.status(), 200);
    let img = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(img.dimensions(), (480, 240));
    assert!(dir.join(format!("{stem}-960w.png")).exists(), "all of its variants were made at once");

    let resp = app.get(&format!("/media/{}-900w.jpg", broken.trim_end_matches(".jpg"))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"\xFF\xD8\xFF not really a jpeg");
    // The original itself is still served for what already links it.
    assert_eq!(app.get(&format!("/media/{old}")).await.status(), 200);
}
storage_test!(older_uploads_still_show);

/// How long a camera-sized upload takes to store (decode, three resizes, three encodes):
/// `cargo test -p nashir --test it -- --ignored upload_timing --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn upload_timing() {
    let photo = jpeg(6000, 4000);
    let dir = tempfile::tempdir().unwrap();
    let checked = nashir::editor::media::check(&photo, Some("p.jpg"), None, usize::MAX).unwrap();
    let started = std::time::Instant::now();
    let img = nashir::editor::imaging::decode(&photo, checked.kind).unwrap();
    println!("decoded in {:?}", started.elapsed());
    let t = std::time::Instant::now();
    let small = nashir::editor::imaging::resize(&img, 1600, 1067);
    println!("resized to 1600 in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = nashir::editor::imaging::encode(&small, nashir::editor::media::ImageKind::Jpeg).unwrap();
    println!("encoded 1600 in {:?}", t.elapsed());
    let started = std::time::Instant::now();
    let stored = nashir::editor::imaging::store_upload(dir.path(), &photo, &checked).unwrap();
    println!("6000×4000 JPEG ({} KB) stored with {} variants in {:?}", photo.len() / 1024, stored.variants.len(), started.elapsed());
}
