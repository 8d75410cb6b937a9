//! Pictures: which uploads are shown inline (PNG, JPEG, GIF and WebP, known by their
//! first bytes, not by what the browser said), what is served of them, and their
//! previews.
//!
//! A photo carries metadata its sender may not mean to share: where it was taken,
//! the camera, the time. What is served keeps only what draws the picture (its
//! pixels, palette and colour profile). A picture that must be turned to show
//! upright (EXIF orientation) is turned and encoded again, as the metadata that
//! said so goes; the others keep their pixels byte for byte.
//!
//! Decoding holds the whole picture in memory, so it runs a few at a time (see
//! [`Pictures`]) on the blocking pool, within [`image::Limits`].

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, metadata::Orientation};
use img_parts::jpeg::Jpeg;
use img_parts::png::Png;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};
use tokio::sync::Semaphore;

/// Previews fit in this box (twice the size they are shown at, for sharp screens).
const PREVIEW_WIDTH: u32 = 720;
const PREVIEW_HEIGHT: u32 = 540;

/// The picture formats shown inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl Kind {
    /// The format `first` bytes of a file begin, if a picture's.
    pub fn sniff(first: &[u8]) -> Option<Kind> {
        match first {
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Kind::Png),
            [0xFF, 0xD8, 0xFF, ..] => Some(Kind::Jpeg),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Kind::Gif),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Kind::Webp),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Png => ImageFormat::Png,
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Gif => ImageFormat::Gif,
            Kind::Webp => ImageFormat::WebP,
        }
    }
}

/// What a picture becomes.
pub struct Processed {
    /// What is served in its place: without its metadata, and upright.
    pub file: Vec<u8>,
    /// A smaller copy for the message: JPEG, or PNG where it is transparent.
    pub preview: Vec<u8>,
    pub preview_type: &'static str,
    pub preview_size: (u32, u32),
}

/// Turns pictures into what is served, a few at a time: decoding one holds it whole
/// (a 25 MB photo is about 100 MB of pixels), so twenty people uploading at once
/// wait their turn rather than add up.
pub struct Pictures(Semaphore);

impl Default for Pictures {
    fn default() -> Self {
        Self(Semaphore::new(2))
    }
}

impl Pictures {
    /// A `kind` picture, loaded by `load` once it is its turn (so pictures waiting
    /// for theirs are not held in memory meanwhile), then processed; `Ok(None)` when
    /// it does not decode within the limits (it is then served as a file to
    /// download, and never inline).
    pub async fn process<E>(
        &self,
        kind: Kind,
        load: impl Future<Output = Result<Vec<u8>, E>>,
    ) -> Result<Option<Processed>, E> {
        let Ok(_turn) = self.0.acquire().await else { return Ok(None) };
        let bytes = load.await?;
        let done = tokio::task::spawn_blocking(move || process(kind, bytes)).await;
        Ok(match done {
            Ok(Ok(processed)) => Some(processed),
            Ok(Err(err)) => {
                tracing::info!("an uploaded {kind:?} picture is kept as a file: {err}");
                None
            }
            Err(err) => {
                tracing::warn!("processing a picture failed: {err}");
                None
            }
        })
    }
}

fn process(kind: Kind, bytes: Vec<u8>) -> Result<Processed, image::ImageError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes.as_slice()), kind.format());
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder()?;
    // Not every decoder counts the pixels it is about to hold against the limits
    // (the GIF one does not): a few dozen bytes may claim 11,000 × 11,000. Counted
    // here, before anything is allocated.
    limits.reserve(decoder.total_bytes())?;
    let orientation = decoder.orientation()?;
    let mut picture = DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);

    // Encoded again where the metadata cannot be cut out: never served with it.
    let file = match orientation {
        Orientation::NoTransforms => match without_metadata(kind, bytes) {
            Ok(cleaned) => cleaned,
            Err(_) => encode(&picture, kind, 90)?,
        },
        _ => encode(&picture, kind, 90)?,
    };
    let preview = if picture.width() > PREVIEW_WIDTH || picture.height() > PREVIEW_HEIGHT {
        picture.thumbnail(PREVIEW_WIDTH, PREVIEW_HEIGHT)
    } else {
        picture
    };
    let preview_kind = if preview.color().has_alpha() { Kind::Png } else { Kind::Jpeg };
    Ok(Processed {
        file,
        preview_size: (preview.width(), preview.height()),
        preview_type: preview_kind.content_type(),
        preview: encode(&preview, preview_kind, 80)?,
    })
}

/// `picture` encoded as `kind` (JPEG at `quality`; WebP losslessly, as the image
/// crate writes it; GIF never needs it, having no orientation).
fn encode(picture: &DynamicImage, kind: Kind, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Cursor::new(Vec::new());
    match kind {
        Kind::Jpeg => {
            let rgb = DynamicImage::ImageRgb8(picture.to_rgb8());
            rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, quality,
            ))?;
        }
        _ => picture.write_to(&mut out, kind.format())?,
    }
    Ok(out.into_inner())
}

/// The picture with only what draws it: JPEG keeps its JFIF, colour-profile and
/// Adobe colour-transform segments; PNG the chunks that make its pixels and colour
/// (APNG's frames included); WebP loses its EXIF and XMP. A GIF is kept as it is:
/// it has no EXIF (cameras do not write GIFs), though an editor may have left XMP
/// or a comment in its extension blocks, which are served with it.
fn without_metadata(kind: Kind, bytes: Vec<u8>) -> Result<Vec<u8>, img_parts::Error> {
    let bytes = Bytes::from(bytes);
    let cleaned = match kind {
        Kind::Jpeg => {
            let mut jpeg = Jpeg::from_bytes(bytes)?;
            jpeg.segments_mut().retain(|s| keeps_jpeg(s.marker(), s.contents()));
            jpeg.encoder().bytes()
        }
        Kind::Png => {
            let mut png = Png::from_bytes(bytes)?;
            png.chunks_mut().retain(|c| PNG_KEPT.contains(&&c.kind()));
            png.encoder().bytes()
        }
        Kind::Webp => {
            let mut webp = WebP::from_bytes(bytes)?;
            webp.remove_chunks_by_id(*b"XMP ");
            // Also recomputes the header's flags for what is left.
            webp.set_exif(None);
            webp.encoder().bytes()
        }
        Kind::Gif => bytes,
    };
    Ok(cleaned.to_vec())
}

/// Application segments are metadata, but JFIF (APP0), the colour profile (APP2,
/// not its multi-picture index) and Adobe's (APP14, how colours were stored);
/// comments too.
fn keeps_jpeg(marker: u8, contents: &[u8]) -> bool {
    match marker {
        0xE0 | 0xEE => true,
        0xE2 => contents.starts_with(b"ICC_PROFILE\0"),
        0xE1..=0xEF | 0xFE => false,
        _ => true,
    }
}

const PNG_KEPT: [&[u8; 4]; 16] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
    b"cICP", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_known_by_their_first_bytes() {
        assert_eq!(Kind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(Kind::Png));
        assert_eq!(Kind::sniff(b"\xff\xd8\xff\xe0"), Some(Kind::Jpeg));
        assert_eq!(Kind::sniff(b"GIF89a"), Some(Kind::Gif));
        assert_eq!(Kind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(Kind::sniff(b"<svg xmlns="), None);
        assert_eq!(Kind::sniff(b"<html>"), None);
        assert_eq!(Kind::sniff(b"\x89PN"), None);
    }

    #[test]
    fn a_jpeg_keeps_what_draws_it_and_loses_its_metadata() {
        assert!(keeps_jpeg(0xE0, b"JFIF\0"));
        assert!(keeps_jpeg(0xE2, b"ICC_PROFILE\0\x01\x01"));
        assert!(!keeps_jpeg(0xE2, b"MPF\0"));
        assert!(!keeps_jpeg(0xE1, b"Exif\0\0"));
        assert!(!keeps_jpeg(0xED, b"Photoshop 3.0\0"));
        assert!(!keeps_jpeg(0xFE, b"a comment"));
        assert!(keeps_jpeg(0xDB, b"")); // quantisation tables
    }

    /// A GIF that says it is `width` × `height`: a header, a two-colour palette, one
    /// frame and nothing in it, a few dozen bytes whatever the size it claims.
    fn claimed_gif(width: u16, height: u16) -> Vec<u8> {
        let (w, h) = (width.to_le_bytes(), height.to_le_bytes());
        let mut gif = b"GIF89a".to_vec();
        gif.extend([w[0], w[1], h[0], h[1], 0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
        gif.extend([0x2C, 0, 0, 0, 0, w[0], w[1], h[0], h[1], 0, 2, 0, 0x3B]);
        gif
    }

    #[test]
    fn a_picture_too_large_to_decode_is_refused_before_its_pixels() {
        // Wider than 12,000 px; then within that but 11,000² pixels (484 MB), past
        // the 256 MiB of pixels allowed. Neither allocates its pixels.
        for (width, height) in [(60_000, 10), (11_000, 11_000)] {
            let refused = process(Kind::Gif, claimed_gif(width, height));
            assert!(
                matches!(refused, Err(image::ImageError::Limits(_))),
                "{width}×{height}: {:?}",
                refused.err()
            );
        }
    }
}
