//! PNG metadata: the AUTOMATIC1111 `parameters` chunk and the `adstudio`
//! JSON chunk round trip.

use adstudio::ml::diffusion::SchedulerKind;
use adstudio::render::png_meta::png_text_chunks;
use adstudio::render::{
    a1111_parameters, encode_png, read_png_params, ModelIds, PngParams, RenderError, RenderParams,
    RenderRequest,
};
use image::{Rgb, RgbImage};

fn params(prompt: &str) -> PngParams {
    PngParams {
        request: RenderRequest {
            params: RenderParams {
                prompt: prompt.into(),
                negative_prompt: "text, watermark".into(),
                seed: 12_345_678_901_234,
                steps: 30,
                guidance_scale: 7.5,
                conditioning_scale: 0.8,
                control_start: 0.1,
                control_end: Some(0.9),
                scheduler: SchedulerKind::EulerAncestral,
                prompt_adapter: Some("warm-1".into()),
                draft: false,
                n_variants: 1,
            },
            models: ModelIds {
                checkpoint: "sd15".into(),
                controlnet: Some("canny".into()),
            },
            ..RenderRequest::default()
        },
        variant: 3,
        batch_seed: 12_345_678_901_231,
    }
}

fn image() -> RgbImage {
    RgbImage::from_fn(24, 16, |x, y| Rgb([x as u8 * 10, y as u8 * 15, 77]))
}

#[test]
fn parameters_text_follows_automatic1111() {
    let p = params("a red sneaker, studio light");
    let text = a1111_parameters(&p.request, 512, 640);
    assert_eq!(
        text,
        "a red sneaker, studio light\nNegative prompt: text, watermark\nSteps: 30, \
         Sampler: Euler a, CFG scale: 7.5, Seed: 12345678901234, Size: 512x640, Model: sd15, \
         ControlNet 0: \"Module: canny, Model: canny, Weight: 0.8\""
    );
    let mut bare = p.request.clone();
    bare.params.negative_prompt.clear();
    bare.models.controlnet = None;
    assert!(!a1111_parameters(&bare, 8, 8).contains("Negative prompt"));
    assert!(!a1111_parameters(&bare, 8, 8).contains("ControlNet"));
}

#[test]
fn png_round_trips_pixels_and_parameters() {
    for prompt in ["a mug on a desk", "ein Glas Öl — 日本茶, 🍵"] {
        let p = params(prompt);
        let bytes = encode_png(&image(), &p).expect("encode");
        let decoded = image::load_from_memory(&bytes).expect("decode").to_rgb8();
        assert_eq!(decoded, image());
        assert_eq!(read_png_params(&bytes).expect("read"), p);
        let chunks = png_text_chunks(&bytes).expect("chunks");
        let text = chunks
            .iter()
            .find(|(k, _)| k == "parameters")
            .map(|(_, t)| t.clone())
            .expect("parameters chunk");
        assert!(text.starts_with(prompt), "{text}");
        assert!(text.contains("Size: 24x16"), "{text}");
    }
}

#[test]
fn a_png_without_our_chunk_is_a_clear_error() {
    let mut plain = Vec::new();
    image()
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Png,
        )
        .expect("plain png");
    let err = read_png_params(&plain).expect_err("no chunk");
    assert!(matches!(err, RenderError::Metadata(_)), "{err}");
    assert!(err.to_string().contains("adstudio"), "{err}");
    let err = read_png_params(b"not a png").expect_err("garbage");
    assert!(matches!(err, RenderError::Png { .. }), "{err}");
}
