//! Uploaded images: the bytes must be what they claim (magic numbers, not the browser's
//! word), are stored under a content hash in `data_dir/media`, and carry their dimensions in
//! the file name (`{hash}-{w}x{h}.{ext}`) so pages can write width/height without a query.
//!
//! Pages never link the original: at upload it is decoded (within pixel limits, so a small
//! file claiming 100000×100000 pixels is refused before anything is allocated), turned upright
//! and re-encoded at a few widths (`{hash}-{w}x{h}-{variant}w.{ext}`), which also drops
//! EXIF metadata such as a photographer's GPS position. The variants' names follow from the
//! original's, so rendering needs no query, and uploads made before variants existed get them
//! on first request.

pub mod imaging;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn ext(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    fn from_ext(ext: &str) -> Option<ImageKind> {
        match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(ImageKind::Jpeg),
            "png" => Some(ImageKind::Png),
            "webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }

    fn from_mime(mime: &str) -> Option<ImageKind> {
        match mime.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(ImageKind::Jpeg),
            "image/png" => Some(ImageKind::Png),
            "image/webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadError {
    #[error("لم يُرفق ملف")]
    Missing,
    #[error("الملف أكبر من الحد المسموح ({0} كيلوبايت)")]
    TooLarge(usize),
    #[error("الملف ليس صورة بصيغة JPEG أو PNG أو WebP")]
    NotAnImage,
    #[error("الملف يدّعي أنه {claimed} لكنه في الحقيقة {actual}")]
    WrongType { claimed: &'static str, actual: &'static str },
    #[error("تعذّرت قراءة أبعاد الصورة؛ ربما الملف تالف")]
    Unreadable,
    #[error(
        "أبعاد الصورة {width}×{height} بكسل أكبر من المسموح ({max_megapixels} ميغابكسل، وألا يزيد ضلع على {max_side} بكسل)؛ صغّرها ثم ارفعها"
    )]
    TooManyPixels { width: u32, height: u32, max_megapixels: u64, max_side: u32 },
    #[error("تعذّر فك ترميز الصورة؛ الملف تالف أو ناقص")]
    Corrupt,
}

/// Decoding allocates width × height × 4 bytes whatever the file's size, so the header's
/// claim is checked first: 40 megapixels (a 7700×5200 photo) fit in 160 MB.
pub const MAX_PIXELS: u64 = 40_000_000;
pub const MAX_SIDE: u32 = 16_000;

/// Recognises an image by its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub file_name: String,
}

/// Checks an upload against what its name and declared type say.
pub fn check(bytes: &[u8], file_name: Option<&str>, declared_type: Option<&str>, max_bytes: usize) -> Result<CheckedImage, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Missing);
    }
    if bytes.len() > max_bytes {
        return Err(UploadError::TooLarge(max_bytes / 1024));
    }
    let actual = sniff(bytes).ok_or(UploadError::NotAnImage)?;
    let claimed = declared_type
        .and_then(ImageKind::from_mime)
        .or_else(|| file_name.and_then(|n| n.rsplit_once('.')).and_then(|(_, ext)| ImageKind::from_ext(ext)));
    if let Some(claimed) = claimed {
        if claimed != actual {
            return Err(UploadError::WrongType { claimed: claimed.mime(), actual: actual.mime() });
        }
    }
    let size = imagesize::blob_size(bytes).map_err(|_| UploadError::Unreadable)?;
    let (width, height) = (u32::try_from(size.width).unwrap_or(0), u32::try_from(size.height).unwrap_or(0));
    if width == 0 || height == 0 {
        return Err(UploadError::Unreadable);
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width > MAX_SIDE || height > MAX_SIDE {
        return Err(UploadError::TooManyPixels { width, height, max_megapixels: MAX_PIXELS / 1_000_000, max_side: MAX_SIDE });
    }
    let hash = hex::encode(&Sha256::digest(bytes)[..10]);
    Ok(CheckedImage { kind: actual, width, height, file_name: format!("{hash}-{width}x{height}.{}", actual.ext()) })
}

/// A stored media file name is exactly what `check` makes; anything else is refused, which
/// also rules out path traversal.
pub fn parse_media_name(name: &str) -> Option<(u32, u32, ImageKind)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let kind = ImageKind::from_ext(ext).filter(|k| k.ext() == ext)?;
    let (hash, dims) = stem.split_once('-')?;
    if hash.len() != 20 || !hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return None;
    }
    let (w, h) = dims.split_once('x')?;
    Some((dimension(w)?, dimension(h)?, kind))
}

/// One side of an image as `check` writes it: decimal digits without a sign or a leading zero,
/// from 1 to [`MAX_SIDE`]. Anything else (`0`, `+5`, `007`, 99999999999) is not one of our
/// names; a zero width used to reach a division when variants were computed.
fn dimension(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 5 || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| (1..=MAX_SIDE).contains(n))
}

/// Width and height of an image block's source when it is one of our uploads.
pub fn dimensions_of(src: &str) -> Option<(u32, u32)> {
    parse_media_name(src.strip_prefix("/media/")?).map(|(w, h, _)| (w, h))
}

/// Widths offered in `srcset`: phones, tablets and the widest column on a 2× screen.
pub const VARIANT_WIDTHS: [u32; 3] = [480, 960, 1600];

/// A resized, re-encoded copy of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    pub kind: ImageKind,
    pub file_name: String,
}

/// The variants of an original `{hash}-{w}x{h}.{ext}`: every width of [`VARIANT_WIDTHS`] below
/// its own, plus one at its own width up to the largest, so even a small image is served
/// re-encoded. Never upscaled. PNGs stay PNG (screenshots, transparency); the rest become JPEG.
pub fn variants_of(original: &str) -> Option<Vec<Variant>> {
    let (width, height, kind) = parse_media_name(original)?;
    let stem = original.rsplit_once('.')?.0;
    let top = width.min(VARIANT_WIDTHS[VARIANT_WIDTHS.len() - 1]);
    let mut widths: Vec<u32> = VARIANT_WIDTHS.iter().copied().filter(|w| *w < top).collect();
    widths.push(top);
    let kind = if kind == ImageKind::Png { ImageKind::Png } else { ImageKind::Jpeg };
    Some(
        widths
            .into_iter()
            .map(|w| {
                // `width` is at least 1 (parse_media_name), and the result is at most `height`.
                let h = ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width.max(1))).max(1);
                let h = u32::try_from(h).unwrap_or(height);
                Variant { width: w, height: h, kind, file_name: format!("{stem}-{w}w.{}", kind.ext()) }
            })
            .collect(),
    )
}

/// The original a variant name belongs to, as the candidate original names (a JPEG variant
/// may come from a JPEG or a WebP); `None` for anything that is not exactly a variant name.
pub fn original_of_variant(name: &str) -> Option<Vec<String>> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (original_stem, _) = stem.rsplit_once('-')?;
    let candidates: &[ImageKind] = match ImageKind::from_ext(ext).filter(|k| k.ext() == ext)? {
        ImageKind::Png => &[ImageKind::Png],
        _ => &[ImageKind::Jpeg, ImageKind::Webp],
    };
    let names: Vec<String> = candidates.iter().map(|k| format!("{original_stem}.{}", k.ext())).collect();
    let real = names.iter().any(|n| variants_of(n).is_some_and(|vs| vs.iter().any(|v| v.file_name == name)));
    real.then_some(names)
}

/// What a page writes for an image block: the largest variant as `src`, all of them as
/// `srcset`, and its dimensions. `None` for images that are not our uploads.
pub fn responsive(src: &str) -> Option<(String, String, u32, u32)> {
    let variants = variants_of(src.strip_prefix("/media/")?)?;
    let largest = variants.last()?;
    let srcset = variants.iter().map(|v| format!("/media/{} {}w", v.file_name, v.width)).collect::<Vec<_>>().join(", ");
    Some((format!("/media/{}", largest.file_name), srcset, largest.width, largest.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x00, 0x02, 0x08, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn checks_magic_and_claims() {
        let ok = check(PNG_1X1, Some("a.png"), Some("image/png"), 1000).unwrap();
        assert_eq!((ok.width, ok.height, ok.kind), (3, 2, ImageKind::Png));
        assert_eq!(parse_media_name(&ok.file_name), Some((3, 2, ImageKind::Png)));
        assert_eq!(dimensions_of(&format!("/media/{}", ok.file_name)), Some((3, 2)));
        assert!(matches!(check(PNG_1X1, Some("a.jpg"), Some("image/jpeg"), 1000), Err(UploadError::WrongType { .. })));
        assert_eq!(check(b"hello world", Some("a.png"), None, 1000), Err(UploadError::NotAnImage));
        assert_eq!(check(PNG_1X1, None, None, 10), Err(UploadError::TooLarge(0)));
        assert_eq!(parse_media_name("../etc/passwd"), None);
        assert_eq!(parse_media_name("0123456789abcdef0123-3x2.png.exe"), None);
    }

    #[test]
    fn hostile_names_are_not_ours() {
        let hash = "0123456789abcdef0123";
        for dims in
            ["0x0", "0x10", "10x0", "+5x5", "05x5", "5x-5", "99999x5", "16001x5", "4294967296x5", "99999999999999999999x5", "x5", "5x"]
        {
            let original = format!("{hash}-{dims}.jpg");
            assert_eq!(parse_media_name(&original), None, "{original}");
            assert_eq!(variants_of(&original), None, "{original}");
            assert_eq!(responsive(&format!("/media/{original}")), None, "{original}");
            for w in ["0", "480", "4294967295", "99999999999999999999"] {
                assert_eq!(original_of_variant(&format!("{hash}-{dims}-{w}w.jpg")), None, "{dims} {w}");
            }
        }
        assert_eq!(parse_media_name(&format!("{hash}-16000x1.png")), Some((16_000, 1, ImageKind::Png)));
        let thin = variants_of(&format!("{hash}-16000x1.png")).unwrap();
        assert!(thin.iter().all(|v| v.height == 1), "{thin:?}");
    }

    #[test]
    fn refuses_pixel_bombs_from_the_header() {
        let mut bomb = PNG_1X1.to_vec();
        bomb[16..24].copy_from_slice(&[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0]);
        assert!(matches!(check(&bomb, None, None, 1000), Err(UploadError::TooManyPixels { width: 100_000, height: 100_000, .. })));
    }

    #[test]
    fn variants_follow_from_the_name() {
        let widths = |name: &str| variants_of(name).unwrap().iter().map(|v| (v.width, v.height)).collect::<Vec<_>>();
        let hash = "0123456789abcdef0123";
        assert_eq!(widths(&format!("{hash}-4000x3000.jpg")), [(480, 360), (960, 720), (1600, 1200)]);
        assert_eq!(widths(&format!("{hash}-1000x333.webp")), [(480, 160), (960, 320), (1000, 333)]);
        assert_eq!(widths(&format!("{hash}-480x10.png")), [(480, 10)]);
        assert_eq!(widths(&format!("{hash}-3x2000.png")), [(3, 2000)]);
        let v = variants_of(&format!("{hash}-1000x333.webp")).unwrap();
        assert_eq!(v[0].file_name, format!("{hash}-1000x333-480w.jpg"), "WebP variants are JPEG");
        assert_eq!(original_of_variant(&v[0].file_name), Some(vec![format!("{hash}-1000x333.jpg"), format!("{hash}-1000x333.webp")]));
        assert_eq!(original_of_variant(&format!("{hash}-1000x333-500w.jpg")), None, "not one of the widths");
        assert_eq!(original_of_variant(&format!("{hash}-1000x333-1600w.jpg")), None, "never upscaled");
        assert_eq!(original_of_variant(&format!("{hash}-1000x333.jpg")), None, "an original");
        assert_eq!(original_of_variant("../../etc/passwd-480w.jpg"), None);
        let (src, srcset, w, h) = responsive(&format!("/media/{hash}-1000x333.png")).unwrap();
        assert_eq!((src.as_str(), w, h), (format!("/media/{hash}-1000x333-1000w.png").as_str(), 1000, 333));
        assert_eq!(srcset.matches("w, ").count(), 2);
        assert_eq!(responsive("https://example.org/a.jpg"), None);
    }
}
