//! Uploaded images: the bytes must be what they claim (magic numbers, not the browser's
//! word), are stored under a content hash in `data_dir/media`, and carry their dimensions in
//! the file name (`{hash}-{w}x{h}.{ext}`) so pages can write width/height without a query.
//! Resizing is not done: adding the `image` crate (jpeg, png, webp only) cost 3m07s of CPU
//! (8m36s wall on the shared 2-core machine) for one dev build, so the original is served and
//! `srcset` lists it alone, with its true width. Width and height come from the headers.

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
}

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
    Some((w.parse().ok()?, h.parse().ok()?, kind))
}

/// Width and height of an image block's source when it is one of our uploads.
pub fn dimensions_of(src: &str) -> Option<(u32, u32)> {
    parse_media_name(src.strip_prefix("/media/")?).map(|(w, h, _)| (w, h))
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
}
