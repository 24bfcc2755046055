//! PCPO training on the LLaVA layout, on the tiny random `llava_tiny`
//! fixture (CLIP vision tower, projector, Qwen2 decoder; 16 image tokens):
//! the multimodal log-probabilities agree with the inference path, LoRA
//! gradients match finite differences, the corrupted image conditions are
//! exactly as designed, a short run raises the margin and leaves the base
//! weights untouched, and resume equals an uninterrupted run.

use crate::common::fixtures;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use adstudio::ml::pcpo::{
    batch_objective_with, choose_corruption, corrupted_count, donor_answer, patch_grid,
    policy_and_reference_with, zero_patches, CorruptionChoice, FeatureCache, ImageCorruption,
    ImageEncoder, PairBatch, PcpoConfig, PcpoTrainer, PreferencePair, ProductPrompt, Sequence,
    TrainControl, TrainEvent, TrainingSet, PATCH_SIZE,
};
use adstudio::ml::prompt_model::{preprocess_image, token_logprobs, Llava, LoraTarget};
use candle_core::{Device, Tensor};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const IMAGE: u32 = 511;

fn llava() -> Llava {
    fixtures::llava_tiny().2
}

/// A product photo without any black pixel: a colour gradient with a
/// product-specific tint.
fn photo(product: usize, w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let t = 40 * product as u32;
        Rgb([
            (20 + (x * 200) / w + t) as u8 % 230 + 20,
            (30 + (y * 180) / h) as u8,
            (90 + t + (x + y) % 50) as u8 % 230 + 20,
        ])
    })
}

/// 3 products: prompts of 4-6 random tokens, the 16 image tokens, then
/// 5-9 random tokens holding the title (as `image_product_prompt` lays them
/// out); images of different sizes; `pairs` pairs of random 4-6 token
/// answers.
fn image_set(pairs: usize, seed: u64) -> TrainingSet {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut toks = |n: usize| -> Vec<u32> { (0..n).map(|_| rng.random_range(3..500)).collect() };
    let products = (0..3)
        .map(|i| {
            let mut ids = toks(4 + i);
            let title_start = ids.len() + 16 + 1;
            ids.extend(std::iter::repeat_n(IMAGE, 16));
            ids.extend(toks(5 + 2 * i));
            ProductPrompt {
                ids,
                title: title_start..title_start + 3,
            }
        })
        .collect();
    let pairs = (0..pairs)
        .map(|i| PreferencePair {
            product: i % 3,
            chosen: toks(4 + i % 3),
            rejected: toks(5),
        })
        .collect();
    let images = vec![photo(0, 128, 96), photo(1, 100, 70), photo(2, 64, 64)];
    TrainingSet {
        products,
        pairs,
        images,
    }
}

fn tiny_config() -> PcpoConfig {
    PcpoConfig {
        learning_rate: 1e-2,
        epochs: 3,
        batch_size: 2,
        warmup_ratio: 0.2,
        seed: 11,
        lora_rank: 4,
        lora_alpha: 8.0,
        lora_targets: ["q_proj", "v_proj", "up_proj", "down_proj"]
            .map(String::from)
            .to_vec(),
        ..PcpoConfig::default()
    }
}

fn trainer(cfg: &PcpoConfig) -> PcpoTrainer {
    let model = llava();
    PcpoTrainer::new(model.decoder().clone(), cfg.clone())
        .expect("trainer")
        .with_image_encoder(Box::new(model))
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("values")
}

fn max_diff(a: &HashMap<String, Tensor>, b: &HashMap<String, Tensor>) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .map(|(k, t)| {
            values(t)
                .iter()
                .zip(values(&b[k]))
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max)
        })
        .fold(0f32, f32::max)
}

/// log p(answer | prompt, image) through the inference path: the image
/// preprocessed to pixels, `Llava::logits` (vision tower, projector,
/// spliced embeddings, decoder), summed over the answer's tokens.
fn inference_logp(model: &Llava, seq: &Sequence, image: &RgbImage) -> f32 {
    let rgba = image::DynamicImage::ImageRgb8(image.clone()).to_rgba8();
    let pixels = preprocess_image(&rgba, 32, &Device::Cpu).expect("pixels");
    let ids = Tensor::new(seq.ids.as_slice(), &Device::Cpu)
        .and_then(|t| t.unsqueeze(0))
        .expect("ids");
    let logits = model.logits(&ids, &pixels).expect("logits");
    let per_token = values(&token_logprobs(&logits, &ids).expect("logprobs"));
    seq.completion.clone().map(|p| per_token[p - 1]).sum()
}

/// The training path's log-probabilities (cached features spliced into a
/// padded batch; chosen, rejected and corrupted rows) equal, row by row,
/// those of the inference path with each row's own image (the zeroed copy
/// or the other product's image for the corrupted rows), within 1e-4; a
/// product's own image and another's give different scores.
#[test]
fn multimodal_logp_matches_the_inference_path() {
    let model = llava();
    let set = image_set(3, 4);
    let batch = PairBatch::build(&set, &[0, 1, 2], 0, &mut StdRng::seed_from_u64(1)).expect("b");
    let mut cache = FeatureCache::new(&model, &set).expect("cache");
    let rows: Vec<&Sequence> = batch
        .chosen
        .iter()
        .chain(&batch.rejected)
        .chain(&batch.corrupted)
        .collect();
    let mut feats = Vec::new();
    let mut images = Vec::new();
    for k in 0..3 {
        for i in 0..3 {
            let p = batch.products[i];
            let image = match (k, &batch.corrupted_images[i]) {
                (2, ImageCorruption::Zeroed { image, .. }) => image.clone(),
                (2, ImageCorruption::Swapped { donor }) => set.images[*donor].clone(),
                _ => set.images[p].clone(),
            };
            feats.push(cache.of(&image).expect("features"));
            images.push(image);
        }
    }
    let mut decoder = model.decoder().clone();
    let (_, reference) =
        policy_and_reference_with(&mut decoder, &rows, Some((IMAGE, &feats)), 0).expect("logps");
    let got = values(&reference);
    for (r, (seq, image)) in rows.iter().zip(&images).enumerate() {
        let want = inference_logp(&model, seq, image);
        println!("row {r}: training {:.6} inference {want:.6}", got[r]);
        assert!(
            (got[r] - want).abs() <= 1e-4 * want.abs().max(1.0),
            "row {r}"
        );
    }
    let other = inference_logp(&model, rows[0], &set.images[1]);
    assert!((other - got[0]).abs() > 1e-5, "the image does not matter");
}

/// Analytic gradients of `mean(L_DPO + L_PCPO)` on the multimodal model
/// w.r.t. the decoder's LoRA factors match central finite differences
/// (step 1e-2) within 2e-3 + 2% of the value, on the largest-gradient
/// element and two random elements of 4 factors.
#[test]
fn llava_lora_gradients_match_finite_differences() {
    let cfg = tiny_config();
    let trainer = trainer(&cfg);
    let encoder = trainer.image_encoder().expect("encoder");
    let mut rng = StdRng::seed_from_u64(3);
    for (_, var) in trainer.vars() {
        let t = var.as_tensor();
        let noise = Tensor::randn(0f32, 0.2, t.dims(), t.device()).expect("randn");
        var.set(&noise).expect("set");
    }
    let set = image_set(3, 5);
    let batch = PairBatch::build(&set, &[0, 1, 2], 0, &mut rng).expect("batch");
    let mut cache = FeatureCache::new(encoder, &set).expect("cache");
    let mut decoder = trainer.decoder().clone();
    let obj = batch_objective_with(&mut decoder, &batch, Some(&mut cache), (0.5, 1.0), 0)
        .expect("objective");
    // Each product image went through the vision tower once, each drawn
    // zeroed copy once.
    let zeroed = batch
        .corrupted_images
        .iter()
        .filter(|c| matches!(c, ImageCorruption::Zeroed { .. }))
        .count();
    let distinct: std::collections::BTreeSet<usize> = batch
        .products
        .iter()
        .copied()
        .chain(batch.corrupted_images.iter().filter_map(|c| match c {
            ImageCorruption::Swapped { donor } => Some(*donor),
            ImageCorruption::Zeroed { .. } => None,
        }))
        .collect();
    assert_eq!(cache.encoded(), distinct.len() + zeroed);
    let grads = obj.loss.backward().expect("backward");
    let mut loss_at = |decoder: &mut adstudio::ml::prompt_model::Decoder| -> f64 {
        let obj = batch_objective_with(decoder, &batch, Some(&mut cache), (0.5, 1.0), 0)
            .expect("objective");
        f64::from(obj.loss.to_scalar::<f32>().expect("loss"))
    };
    let picked = [
        "layers.0.q_proj.A",
        "layers.0.v_proj.B",
        "layers.1.up_proj.A",
        "layers.1.down_proj.B",
    ];
    let mut checked = 0;
    for (name, var) in trainer
        .vars()
        .iter()
        .filter(|(n, _)| picked.contains(&n.as_str()))
    {
        let g = values(grads.get(var.as_tensor()).expect("grad"));
        let largest = (0..g.len())
            .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
            .expect("argmax");
        for idx in [
            largest,
            rng.random_range(0..g.len()),
            rng.random_range(0..g.len()),
        ] {
            let base = values(var.as_tensor());
            let shape = var.as_tensor().dims().to_vec();
            let mut at = |delta: f32| -> f64 {
                let mut v = base.clone();
                v[idx] += delta;
                var.set(&Tensor::from_vec(v, shape.as_slice(), &Device::Cpu).expect("t"))
                    .expect("set");
                loss_at(&mut decoder)
            };
            let h = 1e-2f32;
            let fd = (at(h) - at(-h)) / (2.0 * f64::from(h));
            at(0.0);
            let an = f64::from(g[idx]);
            println!("{name}[{idx}]: analytic {an:e}, finite difference {fd:e}");
            assert!(
                (fd - an).abs() <= 2e-3 + 0.02 * an.abs(),
                "{name}[{idx}]: {an} vs {fd}"
            );
            checked += 1;
        }
        assert!(g[largest].abs() > 1e-4, "{name}: gradient vanishes");
    }
    assert_eq!(checked, 12);
}

/// Which cells of a `w` x `h` image are entirely black, and whether every
/// other pixel equals the original.
fn black_cells(original: &RgbImage, got: &RgbImage) -> Vec<(u32, u32)> {
    let (cols, rows) = patch_grid(got.width(), got.height());
    let mut cells = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let xs = c * PATCH_SIZE..((c + 1) * PATCH_SIZE).min(got.width());
            let ys = r * PATCH_SIZE..((r + 1) * PATCH_SIZE).min(got.height());
            let pixels: Vec<(u32, u32)> =
                ys.flat_map(|y| xs.clone().map(move |x| (x, y))).collect();
            if pixels
                .iter()
                .all(|&(x, y)| got.get_pixel(x, y).0 == [0, 0, 0])
            {
                cells.push((c, r));
            } else {
                for &(x, y) in &pixels {
                    assert_eq!(got.get_pixel(x, y), original.get_pixel(x, y), "({x},{y})");
                }
            }
        }
    }
    cells
}

/// Over 40 seeded draws on three products (images 128x96 = 12 patches,
/// 100x70 = 4x3 patches with partial edges, 64x64 = 4 patches): a degraded
/// pair keeps its own prompt and scores its chosen answer under its own
/// image with exactly `corrupted_count(n)` whole 32x32 cells black (the
/// ones the seeded draw names, everything else untouched) and keeps the
/// pair's chosen answer; a swapped pair scores the other product's chosen
/// answer under that product's prompt and image.
/// Chosen and rejected rows always use the product's own prompt. Both
/// branches occur, about half each; the same seed gives the same batch.
#[test]
fn corrupted_image_conditions_are_exactly_as_designed() {
    let set = image_set(3, 7);
    let (mut zeroed, mut swapped) = (0, 0);
    for seed in 0..40 {
        let order = [2usize, 0, 1];
        let batch = PairBatch::build(&set, &order, 0, &mut StdRng::seed_from_u64(seed)).expect("b");
        let again = PairBatch::build(&set, &order, 0, &mut StdRng::seed_from_u64(seed)).expect("b");
        assert_eq!(batch, again, "seed {seed}: not reproducible");
        let mut rng = StdRng::seed_from_u64(seed);
        for (row, &i) in order.iter().enumerate() {
            let pair = &set.pairs[i];
            let own = &set.products[pair.product].ids;
            assert_eq!(&batch.chosen[row].ids[..own.len()], &own[..]);
            assert_eq!(&batch.rejected[row].ids[..own.len()], &own[..]);
            let c = &batch.corrupted[row];
            let choice = choose_corruption(3, pair.product, &mut rng);
            let answer = match choice {
                CorruptionChoice::Swap { donor } => donor_answer(&set, donor).expect("donor"),
                CorruptionChoice::Degrade => &pair.chosen[..],
            };
            assert_eq!(&c.ids[c.completion.clone()], answer);
            match (&batch.corrupted_images[row], choice) {
                (ImageCorruption::Zeroed { image, cells }, CorruptionChoice::Degrade) => {
                    zeroed += 1;
                    assert_eq!(&c.ids[..c.completion.start], &own[..]);
                    let original = &set.images[pair.product];
                    let (cols, rows) = patch_grid(original.width(), original.height());
                    let n = (cols * rows) as usize;
                    assert_eq!(cells.len(), corrupted_count(n), "seed {seed}");
                    assert_eq!(&black_cells(original, image), cells, "seed {seed}");
                    let mut replay = original.clone();
                    assert_eq!(&zero_patches(&mut replay, &mut rng), cells);
                    assert_eq!(&replay, image);
                }
                (ImageCorruption::Swapped { donor }, CorruptionChoice::Swap { donor: d }) => {
                    swapped += 1;
                    assert_eq!(*donor, d);
                    assert_ne!(*donor, pair.product);
                    let theirs = &set.products[*donor].ids;
                    assert_eq!(&c.ids[..c.completion.start], &theirs[..]);
                }
                (got, want) => panic!("seed {seed}: {want:?} drawn, batch has {got:?}"),
            }
        }
    }
    println!("{zeroed} zeroed, {swapped} swapped of 120");
    assert!((40..=80).contains(&zeroed) && zeroed + swapped == 120);
    assert_eq!((corrupted_count(12), corrupted_count(4)), (9, 3));
}

/// Six pairs, five epochs on the multimodal model: the mean reward margin
/// goes from 0 (fresh adapters = reference) to clearly positive, preference
/// accuracy reaches 1, both losses fall, and every base weight of the
/// decoder is bit-identical afterwards (the vision tower and projector are
/// not trained: the image features are unchanged).
#[test]
fn llava_short_run_raises_margin_and_keeps_base_weights() {
    let base = llava();
    let set = image_set(6, 9);
    let cfg = PcpoConfig {
        epochs: 5,
        ..tiny_config()
    };
    let mut trainer = trainer(&cfg);
    let before = trainer.evaluate(&set).expect("eval");
    assert!(before.reward_margin.abs() < 1e-5, "{before:?}");
    let out = trainer
        .train(&set, None, TrainControl::default(), &mut |_| {})
        .expect("train");
    assert_eq!((out.epochs_done, out.cancelled), (5, false));
    let after = trainer.evaluate(&set).expect("eval");
    println!("before {before:?}\nafter {after:?}");
    assert!(after.reward_margin > 1.0, "margin {}", after.reward_margin);
    assert_eq!(after.accuracy, 1.0);
    assert!(after.dpo_loss < before.dpo_loss && after.pcpo_loss < before.pcpo_loss);
    let features = |m: &dyn ImageEncoder| values(&m.features(&set.images[0]).expect("features"));
    let encoder_after = features(trainer.image_encoder().expect("encoder"));
    assert_eq!(features(&base), encoder_after);
    let trained = trainer.into_decoder();
    for layer in 0..2 {
        for target in LoraTarget::ALL {
            let w = |d: &adstudio::ml::prompt_model::Decoder| {
                values(
                    d.projection(layer, target)
                        .and_then(|p| p.weight())
                        .expect("w"),
                )
            };
            assert_eq!(w(base.decoder()), w(&trained), "layer {layer} {target:?}");
        }
    }
    assert!(trained
        .projection(0, LoraTarget::Q)
        .expect("q")
        .adapter()
        .is_some());
}

/// Cancelling in epoch 2 and resuming from the epoch-1 checkpoint (fresh
/// model and encoder) ends at the same adapters as an uninterrupted run
/// (max difference <= 1e-6); a set with images is refused by a trainer
/// without an image encoder.
#[test]
fn llava_resume_matches_uninterrupted_run() {
    let set = image_set(4, 33);
    let cfg = tiny_config();
    let mut straight = trainer(&cfg);
    straight
        .train(&set, None, TrainControl::default(), &mut |_| {})
        .expect("train");
    let want = straight.adapter_tensors().expect("adapters");

    let dir = tempfile::tempdir().expect("tmp");
    let ck = dir.path().join("run.ckpt.safetensors");
    let cancel = AtomicBool::new(false);
    let mut first = trainer(&cfg);
    let control = TrainControl {
        cancel: Some(&cancel),
        checkpoint: Some(&ck),
    };
    let out = first
        .train(&set, None, control, &mut |e| {
            if let TrainEvent::Step {
                epoch: 2, step: 1, ..
            } = e
            {
                cancel.store(true, Ordering::SeqCst)
            }
        })
        .expect("train");
    assert_eq!((out.epochs_done, out.cancelled), (1, true));
    let model = llava();
    let mut resumed = PcpoTrainer::resume(model.decoder().clone(), cfg.clone(), &ck)
        .expect("resume")
        .with_image_encoder(Box::new(model));
    resumed
        .train(&set, None, TrainControl::default(), &mut |_| {})
        .expect("train");
    let diff = max_diff(&resumed.adapter_tensors().expect("adapters"), &want);
    println!("resumed vs uninterrupted: max abs diff {diff:e}");
    assert!(diff <= 1e-6, "resume drifted by {diff}");

    let mut blind = PcpoTrainer::new(llava().decoder().clone(), cfg).expect("trainer");
    let err = blind.evaluate(&set).expect_err("no encoder");
    assert!(err.to_string().contains("no image encoder"), "{err}");
}

/// The LLaVA training prompt of a product is exactly the prompt its
/// suggestions are written from (`MultimodalPromptModel::prompt_ids`: the
/// image placeholder expanded to 16 image tokens, then the instruction),
/// and its title span decodes to the title; a prompt without the image
/// token, or with two, is refused.
#[test]
fn llava_training_prompt_is_the_suggestion_prompt() {
    use adstudio::ml::pcpo::{expand_image_token, image_product_prompt};
    use adstudio::ml::prompt_model::{
        ChatMessage, ChatTemplate, MultimodalPromptModel, Role, TextTokenizer,
    };
    let tokenizer = TextTokenizer::from_tokenizer(
        crate::common::words::byte_tokenizer(true),
        None,
        false,
        vec![],
    );
    let model =
        MultimodalPromptModel::from_parts(llava(), tokenizer, ChatTemplate::ChatMl).expect("model");
    let title = "Red ceramic mug";
    let msg = [ChatMessage::new(
        Role::User,
        format!("Write a background for {title}, please."),
    )];
    let image = (model.image_placeholder(), IMAGE, 16);
    let prompt = image_product_prompt(model.tokenizer(), model.template(), &msg, title, image)
        .expect("prompt");
    assert_eq!(prompt.ids, model.prompt_ids(&msg).expect("ids"));
    assert_eq!(prompt.ids.iter().filter(|&&id| id == IMAGE).count(), 16);
    let text = model
        .tokenizer()
        .inner()
        .decode(&prompt.ids[prompt.title.clone()], false)
        .expect("decode");
    assert_eq!(text.trim(), title);

    let plain = ProductPrompt {
        ids: vec![5, 6, 7, 8],
        title: 1..3,
    };
    assert!(expand_image_token(plain.clone(), IMAGE, 16).is_err());
    let twice = ProductPrompt {
        ids: vec![IMAGE, 6, IMAGE, 8],
        title: 3..4,
    };
    assert!(expand_image_token(twice, IMAGE, 16).is_err());
    let before = ProductPrompt {
        ids: vec![5, 6, IMAGE, 8],
        title: 0..2,
    };
    let expanded = expand_image_token(before, IMAGE, 3).expect("expand");
    assert_eq!(expanded.ids, vec![5, 6, IMAGE, IMAGE, IMAGE, 8]);
    assert_eq!(expanded.title, 0..2);
}

/// The LLaVA suggestion path (used by the online rounds) processes the
/// image prompt once for a batch of answers: each row's answer (tokens,
/// text, stop reason) is exactly what a separate chat with seed
/// `seed + row` writes.
#[test]
fn llava_batched_answers_equal_separate_chats() {
    use adstudio::ml::prompt_model::{
        ChatMessage, ChatModel, ChatTemplate, MultimodalPromptModel, Role, RowFlow, SamplingParams,
        TextTokenizer,
    };
    use std::ops::ControlFlow;
    let tokenizer = TextTokenizer::from_tokenizer(
        crate::common::words::byte_tokenizer(true),
        None,
        false,
        vec![],
    );
    let mut model =
        MultimodalPromptModel::from_parts(llava(), tokenizer, ChatTemplate::ChatMl).expect("model");
    let rgba = image::DynamicImage::ImageRgb8(photo(1, 100, 70)).to_rgba8();
    let pixels = model.pixels(&rgba).expect("pixels");
    let msg = [ChatMessage::new(Role::User, "A background for a red mug.")];
    let params = SamplingParams {
        temperature: 1.0,
        max_new_tokens: 10,
        seed: 7,
        ..SamplingParams::default()
    };
    let mut chat = model.with_image(pixels);
    let batch = chat
        .chat_batch(&msg, &params, 3, None, &mut |_, _| RowFlow::Continue)
        .expect("batch");
    assert_eq!(batch.len(), 3);
    for (row, got) in batch.iter().enumerate() {
        let alone = chat
            .chat(
                &msg,
                &SamplingParams {
                    seed: 7 + row as u64,
                    ..params.clone()
                },
                &mut |_| ControlFlow::Continue(()),
            )
            .expect("chat");
        assert_eq!(
            (&got.token_ids, &got.text, got.stop),
            (&alone.token_ids, &alone.text, alone.stop),
            "row {row}"
        );
        assert!(!got.token_ids.is_empty());
    }
    assert_ne!(batch[0].token_ids, batch[1].token_ids);
}
