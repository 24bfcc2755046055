//! Intake of product photos: formats, orientation, limits and bad inputs.

use crate::common::product_images;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use adstudio::product::{
    build_mask, load_product_bytes, load_product_file, MaskEdits, MaskSettings, ProductError,
    MAX_ASPECT, MAX_FILE_BYTES, MAX_PIXELS, MIN_SIDE,
};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use product_images::{cutout, disc, noise_image, png_header_only};

/// A small RGBA test picture: a disc with a soft edge, transparent outside.
fn sample_rgba() -> RgbaImage {
    cutout(&disc(48, 32, 24.0, 16.0, 12.0), [200, 60, 30], [0, 0, 0])
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// `pattern` repeated `times` times (rows of small test PNGs).
fn tiled(pattern: &[u8], times: usize) -> Vec<u8> {
    pattern.repeat(times)
}

fn write_png(
    path: &Path,
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    palette: Option<(&[u8], &[u8])>,
) {
    let file = BufWriter::new(File::create(path).expect("create png"));
    let mut enc = png::Encoder::new(file, w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    if let Some((plte, trns)) = palette {
        enc.set_palette(plte.to_vec());
        enc.set_trns(trns.to_vec());
    }
    let mut writer = enc.write_header().expect("png header");
    writer.write_image_data(data).expect("png data");
}

#[test]
fn png_rgba8_with_transparency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = sample_rgba();
    let path = write_file(
        dir.path(),
        "product.png",
        &encode(&DynamicImage::ImageRgba8(img.clone()), ImageFormat::Png),
    );
    let loaded = load_product_file(&path).expect("load png");
    assert_eq!(loaded.rgba, img);
    assert!(loaded.has_transparency);
    assert_eq!(loaded.info.format, "PNG");
    assert_eq!(loaded.info.color_type, "Rgba8");
    assert_eq!((loaded.info.width, loaded.info.height), (48, 32));
    assert!(!loaded.info.orientation_applied);
}

#[test]
fn opaque_rgba_png_has_no_transparency() {
    let img = RgbaImage::from_pixel(16, 16, Rgba([10, 20, 30, 255]));
    let loaded = load_product_bytes(&encode(&DynamicImage::ImageRgba8(img), ImageFormat::Png))
        .expect("load");
    assert!(!loaded.has_transparency);
}

#[test]
fn rgb_png_has_no_transparency() {
    let img = RgbImage::from_pixel(16, 16, Rgb([10, 20, 30]));
    let loaded =
        load_product_bytes(&encode(&DynamicImage::ImageRgb8(img), ImageFormat::Png)).expect("load");
    assert!(!loaded.has_transparency);
    assert_eq!(loaded.rgba.get_pixel(3, 3).0, [10, 20, 30, 255]);
}

#[test]
fn png_rgba16_is_converted_to_8_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep.png");
    // Two pixels, repeated: opaque (0xFFFF, 0x8080, 0x0000) and half
    // transparent grey.
    let pixels: [[u16; 4]; 2] = [
        [0xFFFF, 0x8080, 0x0000, 0xFFFF],
        [0x4040, 0x4040, 0x4040, 0x8080],
    ];
    let pair: Vec<u8> = pixels
        .iter()
        .flatten()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let data = tiled(&pair, 8 * 16);
    write_png(
        &path,
        16,
        16,
        png::ColorType::Rgba,
        png::BitDepth::Sixteen,
        &data,
        None,
    );
    let loaded = load_product_file(&path).expect("load 16-bit png");
    assert_eq!(loaded.info.color_type, "Rgba16");
    assert_eq!(loaded.rgba.get_pixel(0, 0).0, [255, 128, 0, 255]);
    assert_eq!(loaded.rgba.get_pixel(1, 0).0, [64, 64, 64, 128]);
    assert!(loaded.has_transparency);
}

#[test]
fn png_palette_with_trns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("palette.png");
    let palette = [255u8, 0, 0, 0, 255, 0, 0, 0, 255];
    let trns = [0u8, 255, 128];
    write_png(
        &path,
        18,
        16,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        &tiled(&[0, 1, 2], 6 * 16),
        Some((&palette, &trns)),
    );
    let loaded = load_product_file(&path).expect("load palette png");
    assert_eq!(loaded.rgba.get_pixel(0, 0).0[3], 0);
    assert_eq!(loaded.rgba.get_pixel(1, 0).0, [0, 255, 0, 255]);
    assert_eq!(loaded.rgba.get_pixel(2, 0).0, [0, 0, 255, 128]);
    assert!(loaded.has_transparency);
}

#[test]
fn png_grey_alpha() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grey.png");
    write_png(
        &path,
        16,
        16,
        png::ColorType::GrayscaleAlpha,
        png::BitDepth::Eight,
        &tiled(&[100, 255, 50, 0], 8 * 16),
        None,
    );
    let loaded = load_product_file(&path).expect("load grey+alpha png");
    assert_eq!(loaded.info.color_type, "La8");
    assert_eq!(loaded.rgba.get_pixel(0, 0).0, [100, 100, 100, 255]);
    assert_eq!(loaded.rgba.get_pixel(1, 0).0[3], 0);
    assert!(loaded.has_transparency);
}

/// An EXIF APP1 segment holding only an orientation tag.
fn exif_app1(orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2A\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xE1];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

#[test]
fn jpeg_exif_orientation_is_applied() {
    // 64 wide, 32 high: left half red, right half blue.
    let img = RgbImage::from_fn(64, 32, |x, _| {
        if x < 32 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let jpeg = encode(&DynamicImage::ImageRgb8(img), ImageFormat::Jpeg);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend(exif_app1(6)); // rotate 90 degrees clockwise to display
    with_exif.extend_from_slice(&jpeg[2..]);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "photo.jpg", &with_exif);
    let loaded = load_product_file(&path).expect("load jpeg");
    assert_eq!(loaded.info.format, "JPEG");
    assert!(loaded.info.orientation_applied);
    assert_eq!(loaded.rgba.dimensions(), (32, 64));
    assert_eq!((loaded.info.width, loaded.info.height), (32, 64));
    // After a clockwise quarter turn the old left side (red) is on top.
    let top = loaded.rgba.get_pixel(16, 8).0;
    let bottom = loaded.rgba.get_pixel(16, 56).0;
    assert!(
        top[0] > 150 && top[2] < 80,
        "top should be red, got {top:?}"
    );
    assert!(
        bottom[2] > 150 && bottom[0] < 80,
        "bottom should be blue, got {bottom:?}"
    );
    assert!(!loaded.has_transparency);

    // Without the tag nothing is rotated.
    let plain = load_product_bytes(&jpeg).expect("load plain jpeg");
    assert_eq!(plain.rgba.dimensions(), (64, 32));
    assert!(!plain.info.orientation_applied);
}

#[test]
fn webp_bmp_tiff_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = DynamicImage::ImageRgba8(sample_rgba());
    for (format, name) in [
        (ImageFormat::WebP, "WEBP"),
        (ImageFormat::Bmp, "BMP"),
        (ImageFormat::Tiff, "TIFF"),
    ] {
        let path = write_file(
            dir.path(),
            &format!("product.{name}"),
            &encode(&img, format),
        );
        let loaded = load_product_file(&path).unwrap_or_else(|e| panic!("load {name}: {e}"));
        assert_eq!(loaded.info.format, name);
        assert_eq!(loaded.rgba.dimensions(), (48, 32));
        assert_eq!(
            loaded.rgba.get_pixel(24, 16).0,
            [200, 60, 30, 255],
            "{name}"
        );
        assert!(loaded.has_transparency, "{name}");
    }
}

#[test]
fn tiff_16_bit_loads() {
    let img = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_pixel(
        16,
        16,
        image::Rgb([65535, 32896, 0]),
    );
    let bytes = encode(&DynamicImage::ImageRgb16(img), ImageFormat::Tiff);
    let loaded = load_product_bytes(&bytes).expect("load 16-bit tiff");
    assert_eq!(loaded.rgba.get_pixel(1, 1).0, [255, 128, 0, 255]);
    assert!(!loaded.has_transparency);
}

#[test]
fn format_comes_from_content_not_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = encode(&DynamicImage::ImageRgba8(sample_rgba()), ImageFormat::Png);
    let path = write_file(dir.path(), "really_a_png.jpg", &bytes);
    let loaded = load_product_file(&path).expect("load");
    assert_eq!(loaded.info.format, "PNG");
}

#[test]
fn missing_file_is_io_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.png");
    let err = load_product_file(&path).expect_err("missing file");
    assert!(
        matches!(&err, ProductError::Io { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.png"));
}

#[test]
fn corrupt_png_data_is_corrupt() {
    let mut bytes = encode(
        &DynamicImage::ImageRgba8(noise_image(64, 64, 1)),
        ImageFormat::Png,
    );
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    let err = load_product_bytes(&bytes).expect_err("corrupt");
    assert!(matches!(err, ProductError::Corrupt { .. }), "{err:?}");
}

#[test]
fn corrupt_header_is_corrupt() {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0xAB; 64]);
    let err = load_product_bytes(&bytes).expect_err("corrupt");
    assert!(
        matches!(
            err,
            ProductError::Corrupt { .. } | ProductError::Truncated { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn truncated_png_is_truncated() {
    let bytes = encode(
        &DynamicImage::ImageRgba8(noise_image(64, 64, 2)),
        ImageFormat::Png,
    );
    let cut = &bytes[..bytes.len() * 6 / 10];
    let err = load_product_bytes(cut).expect_err("truncated");
    assert!(matches!(err, ProductError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("incomplete"));
}

#[test]
fn gif_and_text_are_unsupported() {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[1, 0, 1, 0, 0, 0, 0, 0x3B]);
    let err = load_product_bytes(&gif).expect_err("gif");
    assert!(
        matches!(err, ProductError::UnsupportedFormat { .. }),
        "{err:?}"
    );

    let err = load_product_bytes(b"this is a product description, not a photo").expect_err("text");
    assert!(
        matches!(err, ProductError::UnsupportedFormat { .. }),
        "{err:?}"
    );

    let err = load_product_bytes(&[]).expect_err("empty");
    assert!(
        matches!(err, ProductError::UnsupportedFormat { .. }),
        "{err:?}"
    );
}

/// A valid PNG padded (sparse zeros) to exactly [`MAX_FILE_BYTES`] loads:
/// the decoder stops at IEND. One byte more and the same file is refused as
/// `FileTooLarge`, so the refusal comes from the size alone, before the
/// content is decoded.
#[test]
fn oversized_file_is_refused_by_size_before_decoding() {
    let png = encode(&DynamicImage::ImageRgba8(sample_rgba()), ImageFormat::Png);
    let dir = tempfile::tempdir().expect("tempdir");
    let padded = |name: &str, len: u64| {
        let path = write_file(dir.path(), name, &png);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        file.set_len(len).expect("sparse file");
        path
    };

    let at_limit = load_product_file(&padded("limit.png", MAX_FILE_BYTES)).expect("at the limit");
    assert_eq!(at_limit.rgba, sample_rgba());

    let err = load_product_file(&padded("huge.png", MAX_FILE_BYTES + 1)).expect_err("too large");
    match err {
        ProductError::FileTooLarge { bytes, limit } => {
            assert_eq!(bytes, MAX_FILE_BYTES + 1);
            assert_eq!(limit, MAX_FILE_BYTES);
        }
        other => panic!("expected FileTooLarge, got {other:?}"),
    }
}

/// The file holds only the header (its IDAT carries no pixels): decoding it
/// would fail as corrupt or truncated, so `TooManyPixels` shows the refusal
/// came from the header, before any pixel buffer.
#[test]
fn too_many_pixels_is_refused_from_the_header() {
    let bytes = png_header_only(8000, 6000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "big.png", &bytes);
    let err = load_product_file(&path).expect_err("too many pixels");
    match &err {
        ProductError::TooManyPixels {
            width,
            height,
            limit,
        } => {
            assert_eq!((*width, *height, *limit), (8000, 6000, MAX_PIXELS));
        }
        other => panic!("expected TooManyPixels, got {other:?}"),
    }
    assert!(err.to_string().contains("8000 x 6000"));
    // The same header under the pixel limit is decoded, and fails on the
    // missing pixel data.
    let err = load_product_bytes(&png_header_only(80, 60)).expect_err("no pixel data");
    assert!(
        !matches!(err, ProductError::TooManyPixels { .. }),
        "{err:?}"
    );
}

#[test]
fn absurd_header_sizes_are_refused_too() {
    for (w, h) in [(100_000, 100_000), (40_001, 1_000), (0x7FFF_FFFF, 2)] {
        let err = load_product_bytes(&png_header_only(w, h)).expect_err("too many pixels");
        assert!(
            matches!(err, ProductError::TooManyPixels { width, height, .. } if (width, height) == (w, h)),
            "{w}x{h}: {err:?}"
        );
    }
    let err = load_product_bytes(&png_header_only(0, 10)).expect_err("empty");
    assert!(matches!(err, ProductError::Corrupt { .. }), "{err:?}");
}

#[test]
fn fully_transparent_png_has_no_product() {
    let img = RgbaImage::from_pixel(32, 32, Rgba([255, 0, 0, 0]));
    let loaded = load_product_bytes(&encode(&DynamicImage::ImageRgba8(img), ImageFormat::Png))
        .expect("load");
    assert!(loaded.has_transparency);
    let err =
        build_mask(&loaded, &MaskSettings::default(), &MaskEdits::default()).expect_err("empty");
    assert!(matches!(err, ProductError::NoProduct), "{err:?}");
}

#[test]
fn opaque_busy_photo_cannot_be_keyed() {
    let bytes = encode(
        &DynamicImage::ImageRgba8(noise_image(64, 48, 3)),
        ImageFormat::Png,
    );
    let loaded = load_product_bytes(&bytes).expect("load");
    assert!(!loaded.has_transparency);
    let err =
        build_mask(&loaded, &MaskSettings::default(), &MaskEdits::default()).expect_err("busy");
    assert!(
        matches!(err, ProductError::NoKeyableBackground { .. }),
        "{err:?}"
    );
}

#[test]
fn source_info_serialises() {
    let loaded = load_product_bytes(&encode(
        &DynamicImage::ImageRgba8(sample_rgba()),
        ImageFormat::Png,
    ))
    .expect("load");
    let json = serde_json::to_string(&loaded.info).expect("to json");
    let back: adstudio::product::SourceInfo = serde_json::from_str(&json).expect("from json");
    assert_eq!(back, loaded.info);
}

#[test]
fn error_messages_name_sizes() {
    let err = ProductError::FileTooLarge {
        bytes: 150 * 1024 * 1024,
        limit: MAX_FILE_BYTES,
    };
    let text = err.to_string();
    assert!(
        text.contains("150.0 MB") && text.contains("100.0 MB"),
        "{text}"
    );
}

/// The one size rule, at decode time: a 4000 x 10 strip and a 12 x 12 icon
/// are refused with the size and the limit in the message; 8:1 and 16 px
/// are still accepted.
#[test]
fn degenerate_sizes_are_refused_at_decode_time() {
    let strip = RgbImage::from_pixel(4000, 10, Rgb([200, 30, 30]));
    let err = load_product_bytes(&encode(&DynamicImage::ImageRgb8(strip), ImageFormat::Png))
        .expect_err("strip");
    assert!(
        matches!(
            err,
            ProductError::TooElongated {
                width: 4000,
                height: 10,
                max_aspect: MAX_ASPECT
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("4000 x 10") && text.contains("8:1"), "{text}");

    let err = load_product_bytes(&png_header_only(10, 4000)).expect_err("tall strip");
    assert!(matches!(err, ProductError::TooElongated { .. }), "{err:?}");

    let icon = RgbImage::from_pixel(12, 12, Rgb([200, 30, 30]));
    let err = load_product_bytes(&encode(&DynamicImage::ImageRgb8(icon), ImageFormat::Png))
        .expect_err("icon");
    assert!(
        matches!(
            err,
            ProductError::TooSmall {
                min_side: MIN_SIDE,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("12 x 12"), "{err}");

    for (w, h) in [(8 * MIN_SIDE, MIN_SIDE), (MIN_SIDE, MIN_SIDE)] {
        let ok = RgbImage::from_pixel(w, h, Rgb([200, 30, 30]));
        load_product_bytes(&encode(&DynamicImage::ImageRgb8(ok), ImageFormat::Png))
            .unwrap_or_else(|e| panic!("{w}x{h}: {e}"));
    }
}
