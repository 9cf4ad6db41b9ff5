//! Decoding uploads and writing their resized variants. All of it is CPU-bound: callers go
//! through the async wrappers, which run it on the blocking pool, one image at a time.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::{variants_of, CheckedImage, ImageKind, UploadError, Variant, MAX_PIXELS, MAX_SIDE};

/// JPEG quality of the variants: indistinguishable from the original at reading sizes.
const JPEG_QUALITY: u8 = 82;

/// A decoded image holds width × height × 4 bytes or more; two at once is plenty on a small
/// server, and uploads are rare.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// An upload as stored: the original's final name and dimensions (upright), and its variants.
#[derive(Debug, Clone)]
pub struct Stored {
    pub file_name: String,
    pub width: u32,
    pub height: u32,
    pub variants: Vec<Variant>,
}

fn format_of(kind: ImageKind) -> ImageFormat {
    match kind {
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::Png => ImageFormat::Png,
        ImageKind::Webp => ImageFormat::WebP,
    }
}

/// Decodes within the pixel limits; upright when the file carries an EXIF orientation.
pub fn decode(bytes: &[u8], kind: ImageKind) -> Result<DynamicImage, UploadError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(kind));
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| UploadError::Corrupt)?;
    let (width, height) = decoder.dimensions();
    let too_many = || UploadError::TooManyPixels { width, height, max_megapixels: MAX_PIXELS / 1_000_000, max_side: MAX_SIDE };
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_many());
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        ImageError::Limits(_) => too_many(),
        _ => UploadError::Corrupt,
    })?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Halving or more: an area average, where every source pixel counts once (fast, little
/// memory even from 40 megapixels, no aliasing). Less than that: a triangle filter, smoother
/// where few source pixels meet each target pixel.
pub fn resize(img: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    if img.width() == width && img.height() == height {
        img.clone()
    } else if img.width() >= width * 2 && img.height() >= height * 2 {
        img.thumbnail_exact(width, height)
    } else {
        img.resize_exact(width, height, FilterType::Triangle)
    }
}

/// Encodes a variant. Re-encoding keeps pixels only: EXIF, XMP and comments are gone.
pub fn encode(img: &DynamicImage, kind: ImageKind) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    if kind == ImageKind::Png {
        let encoder = PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
        if img.color().has_alpha() {
            DynamicImage::ImageRgba8(img.to_rgba8()).write_with_encoder(encoder)?;
        } else {
            DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(encoder)?;
        }
        return Ok(out);
    }
    let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    match img {
        DynamicImage::ImageLuma8(_) => img.write_with_encoder(encoder)?,
        _ if img.color().has_alpha() => {
            // JPEG has no transparency: lay the image on white, as a page would show it.
            let rgba = img.to_rgba8();
            let rgb = image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
                let p = rgba.get_pixel(x, y);
                let a = u16::from(p[3]);
                image::Rgb([0, 1, 2].map(|i| ((u16::from(p[i]) * a + 255 * (255 - a) + 127) / 255) as u8))
            });
            DynamicImage::ImageRgb8(rgb).write_with_encoder(encoder)?
        }
        _ => DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(encoder)?,
    }
    Ok(out)
}

/// Writes under a temporary name, then renames, so readers never see half a file; an
/// existing file (same content hash) is left alone.
fn write_once(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(name);
    if path.exists() {
        return Ok(());
    }
    let tmp = dir.join(format!(".{name}.{:016x}.part", rand::random::<u64>()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)
}

fn write_variants(dir: &Path, img: &DynamicImage, original: &str) -> Result<Vec<Variant>, ImagingError> {
    let variants = variants_of(original).ok_or(UploadError::Unreadable)?;
    if variants.iter().all(|v| dir.join(&v.file_name).exists()) {
        return Ok(variants);
    }
    // Largest first, each made from the one before: only the first pass reads every pixel of
    // a camera-sized original.
    // Normally the image has the dimensions its name says. An older upload named by its
    // sideways dimensions (before names were upright) is made at each variant's width with its
    // own, upright, proportions: the `srcset` widths stay true and it shows upright.
    let as_named = super::parse_media_name(original).is_some_and(|(w, h, _)| (w, h) == (img.width(), img.height()));
    let mut source: Option<DynamicImage> = None;
    for v in variants.iter().rev() {
        let height = if as_named {
            v.height
        } else {
            let scaled = (u64::from(img.height()) * u64::from(v.width) + u64::from(img.width()) / 2) / u64::from(img.width().max(1));
            u32::try_from(scaled.clamp(1, u64::from(MAX_SIDE))).unwrap_or(MAX_SIDE)
        };
        let resized = resize(source.as_ref().unwrap_or(img), v.width, height);
        if !dir.join(&v.file_name).exists() {
            let bytes = encode(&resized, v.kind).map_err(std::io::Error::other)?;
            write_once(dir, &v.file_name, &bytes)?;
        }
        source = Some(resized);
    }
    Ok(variants)
}

/// Where originals are kept: a folder inside the media folder, so the one shared mount of a
/// multi-node set-up and `nashir backup` carry them, but never served. `/media/{name}` takes
/// one path segment and serves only variant names (see `serve_media`), and the proxy in
/// docs/deployment.md sends everything to Nashir rather than serving the folder itself.
pub fn originals_dir(media_dir: &Path) -> PathBuf {
    media_dir.join(ORIGINALS)
}

/// The name of [`originals_dir`] inside the media folder.
pub const ORIGINALS: &str = "originals";

/// Decodes a checked upload and stores it with its variants: the variants (re-encoded, no
/// metadata) in `dir`, the original as uploaded, EXIF and all, in [`originals_dir`]. The name
/// carries the upright dimensions, which is how browsers show the image.
pub fn store_upload(dir: &Path, bytes: &[u8], checked: &CheckedImage) -> Result<Stored, ImagingError> {
    let img = decode(bytes, checked.kind)?;
    let hash = checked.file_name.split_once('-').map(|(h, _)| h).unwrap_or_default();
    let (width, height) = (img.width(), img.height());
    let file_name = format!("{hash}-{width}x{height}.{}", checked.kind.ext());
    let originals = originals_dir(dir);
    std::fs::create_dir_all(&originals)?;
    write_once(&originals, &file_name, bytes)?;
    let variants = write_variants(dir, &img, &file_name)?;
    Ok(Stored { file_name, width, height, variants })
}

/// Moves one original that sits in the served folder (uploaded before originals were kept
/// apart, or by an older node during an upgrade) into [`originals_dir`]. A rename within one
/// file system: atomic, so several nodes doing it at once on a shared mount are safe (the
/// loser finds nothing to move), and doing it twice is harmless. Returns whether it moved it.
pub fn secure_original(dir: &Path, name: &str) -> std::io::Result<bool> {
    if super::parse_media_name(name).is_none() {
        return Ok(false);
    }
    let originals = originals_dir(dir);
    std::fs::create_dir_all(&originals)?;
    match std::fs::rename(dir.join(name), originals.join(name)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// At start: every original still in the served folder is moved out of it, so an upload that
/// was public before this version stops being so. Its variants are made on first request, as
/// for any older upload (making them here would hold the start for minutes on a large
/// archive). Returns how many were moved.
pub fn secure_originals(dir: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut moved = 0;
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        if entry.file_type()?.is_file() && secure_original(dir, &name)? {
            moved += 1;
        }
    }
    Ok(moved)
}

/// Originals whose backfill failed; not decoded again on every request for their variants.
static FAILED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Variants for an original stored before there were any, read from [`originals_dir`].
/// Refused when the decoded image is neither its name's dimensions nor those turned a quarter
/// (an EXIF-rotated photo named by its raw dimensions): that file is not what its name says.
pub fn backfill(dir: &Path, original: &str) -> Result<Vec<Variant>, ImagingError> {
    if FAILED.lock().is_ok_and(|f| f.iter().any(|n| n == original)) {
        return Err(UploadError::Unreadable.into());
    }
    let made = make_backfill(dir, original);
    // Only what is in the file itself is remembered; a full disk may be fixed.
    if let Err(ImagingError::Upload(_)) = made {
        if let Ok(mut failed) = FAILED.lock() {
            if failed.len() < 10_000 {
                failed.push(original.to_string());
            }
        }
    }
    made
}

fn make_backfill(dir: &Path, original: &str) -> Result<Vec<Variant>, ImagingError> {
    let (width, height, kind) = super::parse_media_name(original).ok_or(UploadError::Unreadable)?;
    let bytes = std::fs::read(originals_dir(dir).join(original))?;
    let img = decode(&bytes, kind)?;
    if (img.width(), img.height()) != (width, height) && (img.height(), img.width()) != (width, height) {
        return Err(UploadError::Unreadable.into());
    }
    write_variants(dir, &img, original)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::io::Result<T> {
    let _slot = SLOTS.acquire().await.map_err(std::io::Error::other)?;
    tokio::task::spawn_blocking(f).await.map_err(std::io::Error::other)
}

/// [`store_upload`] on the blocking pool.
pub async fn store_upload_async(dir: std::path::PathBuf, bytes: Vec<u8>, checked: CheckedImage) -> Result<Stored, ImagingError> {
    blocking(move || store_upload(&dir, &bytes, &checked)).await?
}

/// [`backfill`] on the blocking pool.
pub async fn backfill_async(dir: std::path::PathBuf, original: String) -> Result<Vec<Variant>, ImagingError> {
    blocking(move || backfill(&dir, &original)).await?
}
