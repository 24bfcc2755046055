//! PCPO training on the tiny random Qwen2 decoder of the `qwen2_tiny`
//! fixture: LoRA gradients against finite differences, a short run that
//! raises the reward margin and leaves the base weights untouched, the PCPO
//! term's gradient and effect, cancellation and resume.

use crate::common::fixtures;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use adstudio::ml::pcpo::{
    batch_objective, load_checkpoint, PairBatch, PcpoConfig, PcpoTrainer, PreferencePair,
    ProductPrompt, TrainControl, TrainEvent, TrainingSet,
};
use adstudio::ml::prompt_model::{Decoder, DecoderConfig, LoraTarget};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn tiny_decoder() -> Decoder {
    let dir = fixtures::fixture_dir("qwen2_tiny");
    let cfg = DecoderConfig::from_file(&dir.join("config.json")).expect("config");
    let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)
        .expect("weights");
    Decoder::new(
        &cfg,
        VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu),
    )
    .expect("decoder")
}

/// 3 products (prompts of 10-14 random tokens, titles inside) and `pairs`
/// pairs of random 4-6 token answers, from a seed.
fn tiny_set(pairs: usize, seed: u64) -> TrainingSet {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut toks = |n: usize| -> Vec<u32> { (0..n).map(|_| rng.random_range(3..500)).collect() };
    let products = (0..3)
        .map(|i| ProductPrompt {
            ids: toks(10 + 2 * i),
            title: 3..8,
        })
        .collect();
    let pairs = (0..pairs)
        .map(|i| PreferencePair {
            product: i % 3,
            chosen: toks(4 + i % 3),
            rejected: toks(5),
        })
        .collect();
    TrainingSet {
        products,
        pairs,
        images: Vec::new(),
    }
}

fn tiny_config() -> PcpoConfig {
    PcpoConfig {
        learning_rate: 1e-2,
        epochs: 3,
        batch_size: 2,
        warmup_ratio: 0.2,
        seed: 11,
        mask_token_id: 1,
        lora_rank: 4,
        lora_alpha: 8.0,
        lora_targets: ["q_proj", "v_proj", "up_proj", "down_proj"]
            .map(String::from)
            .to_vec(),
        ..PcpoConfig::default()
    }
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

fn no_events() -> impl FnMut(&TrainEvent) {
    |_| {}
}

/// Analytic gradients of `mean(L_DPO + L_PCPO)` w.r.t. LoRA factors match
/// central finite differences (step 1e-2) within 2e-3 + 2% of the value, on
/// the largest-gradient element and two random elements of 4 factors.
///
/// The adapters are set to seeded noise (uniform, standard deviation 0.2),
/// so every machine checks the same point. Drawn unseeded (candle's
/// `randn`), one CI run landed where a derivative was 3% off its finite
/// difference (1.32 times the tolerance); over 300 such draws here (2,400
/// elements) the worst gap was 0.20 times the tolerance.
#[test]
fn lora_gradients_match_finite_differences() {
    let cfg = tiny_config();
    let trainer = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    let mut rng = StdRng::seed_from_u64(3);
    for (_, var) in trainer.vars() {
        let t = var.as_tensor();
        let noise: Vec<f32> = (0..t.elem_count())
            .map(|_| rng.random_range(-0.35f32..0.35))
            .collect();
        var.set(&Tensor::from_vec(noise, t.dims(), t.device()).expect("noise"))
            .expect("set");
    }
    let set = tiny_set(3, 5);
    let batch = PairBatch::build(&set, &[0, 1, 2], cfg.mask_token_id, &mut rng).expect("batch");
    let mut decoder = trainer.decoder().clone();
    let loss_at = |decoder: &mut Decoder| -> f64 {
        let obj = batch_objective(decoder, &batch, cfg.beta, cfg.weight, 0).expect("objective");
        f64::from(obj.loss.to_scalar::<f32>().expect("loss"))
    };
    let obj = batch_objective(&mut decoder, &batch, cfg.beta, cfg.weight, 0).expect("objective");
    let grads = obj.loss.backward().expect("backward");
    let picked = [
        "layers.0.q_proj.A",
        "layers.0.q_proj.B",
        "layers.1.down_proj.A",
        "layers.1.v_proj.B",
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
        assert!(g[largest].abs() > 1e-3, "{name}: gradient vanishes");
    }
    assert_eq!(checked, 12);
}

/// Six pairs, a few epochs: the mean reward margin goes from 0 (fresh
/// adapters = reference, up to rounding) to clearly positive, preference accuracy
/// reaches 1, and every base weight is bit-identical afterwards.
#[test]
fn short_run_raises_margin_and_keeps_base_weights() {
    let base = tiny_decoder();
    let set = tiny_set(6, 9);
    let cfg = PcpoConfig {
        epochs: 5,
        ..tiny_config()
    };
    let mut trainer = PcpoTrainer::new(base.clone(), cfg).expect("trainer");
    let before = trainer.evaluate(&set).expect("eval");
    // B = 0: the policy equals the reference up to float rounding.
    assert!(before.reward_margin.abs() < 1e-5, "{before:?}");
    let mut steps = 0;
    let out = trainer
        .train(&set, Some(&set), TrainControl::default(), &mut |e| {
            if matches!(e, TrainEvent::Step { .. }) {
                steps += 1
            }
        })
        .expect("train");
    assert_eq!((out.epochs_done, out.cancelled, steps), (5, false, 15));
    let after = trainer.evaluate(&set).expect("eval");
    println!("before {before:?}\nafter {after:?}");
    for r in &out.history {
        println!(
            "epoch {}: train {:?} valid {:?}",
            r.epoch, r.train, r.validation
        );
    }
    assert!(after.reward_margin > 1.0, "margin {}", after.reward_margin);
    assert_eq!(after.accuracy, 1.0);
    assert!(after.dpo_loss < before.dpo_loss && after.pcpo_loss < before.pcpo_loss);
    let trained = trainer.into_decoder();
    for layer in 0..2 {
        for target in LoraTarget::ALL {
            let w0 = base
                .projection(layer, target)
                .and_then(|p| p.weight())
                .expect("w");
            let w1 = trained
                .projection(layer, target)
                .and_then(|p| p.weight())
                .expect("w");
            assert_eq!(values(w0), values(w1), "layer {layer} {target:?} changed");
        }
    }
    assert!(base
        .projection(0, LoraTarget::Q)
        .expect("q")
        .adapter()
        .is_none());
}

/// At fresh adapters the PCPO term alone has a non-zero gradient on the
/// adapters, and one epoch with w = 1 ends at other weights than with w = 0.
#[test]
fn pcpo_term_has_gradient_and_changes_the_update() {
    let set = tiny_set(4, 21);
    let cfg = PcpoConfig {
        epochs: 1,
        ..tiny_config()
    };
    let trainer = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    let batch =
        PairBatch::build(&set, &[0, 1, 2, 3], 1, &mut StdRng::seed_from_u64(2)).expect("batch");
    let mut decoder = trainer.decoder().clone();
    let obj = batch_objective(&mut decoder, &batch, cfg.beta, 1.0, 0).expect("objective");
    let pcpo = obj.pcpo.expect("pcpo term").mean_all().expect("mean");
    let grads = pcpo.backward().expect("backward");
    let norm: f32 = trainer
        .vars()
        .iter()
        .filter_map(|(_, v)| grads.get(v.as_tensor()))
        .map(|g| values(g).iter().map(|x| x * x).sum::<f32>())
        .sum();
    assert!(norm.sqrt() > 1e-4, "PCPO gradient norm {}", norm.sqrt());

    let run = |weight: f64| {
        let mut t = PcpoTrainer::new(
            tiny_decoder(),
            PcpoConfig {
                weight,
                ..cfg.clone()
            },
        )
        .expect("trainer");
        t.train(&set, None, TrainControl::default(), &mut no_events())
            .expect("train");
        t.adapter_tensors().expect("adapters")
    };
    let (with, without) = (run(1.0), run(0.0));
    let diff = max_diff(&with, &without);
    println!("max |w=1 - w=0| after one epoch: {diff:e}");
    assert!(
        diff > 1e-4,
        "the PCPO term did not change the update ({diff})"
    );
}

/// Cancelling in epoch 2 keeps exactly the weights of the end of epoch 1;
/// resuming from that epoch's checkpoint (fresh decoder) finishes at the
/// same weights as an uninterrupted run (max difference <= 1e-6).
#[test]
fn cancel_keeps_last_epoch_and_resume_matches_uninterrupted_run() {
    let set = tiny_set(5, 33);
    let cfg = tiny_config();
    let mut straight = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    straight
        .train(&set, None, TrainControl::default(), &mut no_events())
        .expect("train");
    let want = straight.adapter_tensors().expect("adapters");

    let dir = tempfile::tempdir().expect("tmp");
    let ck = dir.path().join("run.ckpt.safetensors");
    let epoch1 = dir.path().join("epoch1.safetensors");
    let cancel = AtomicBool::new(false);
    let mut first = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    let control = TrainControl {
        cancel: Some(&cancel),
        checkpoint: Some(&ck),
    };
    let out = first
        .train(&set, None, control, &mut |e| match e {
            TrainEvent::Epoch(r) if r.epoch == 1 => {
                std::fs::copy(&ck, &epoch1).expect("copy checkpoint");
            }
            TrainEvent::Step {
                epoch: 2, step: 1, ..
            } => cancel.store(true, Ordering::SeqCst),
            _ => {}
        })
        .expect("train");
    assert!(out.cancelled);
    assert_eq!(out.epochs_done, 1);
    let saved = load_checkpoint(&epoch1, &Device::Cpu).expect("checkpoint");
    assert_eq!(
        max_diff(&first.adapter_tensors().expect("adapters"), &saved.adapters),
        0.0
    );
    assert_eq!(first.optimizer().step_count(), 3);
    assert_eq!(saved.state.step, 3);

    let mut resumed = PcpoTrainer::resume(tiny_decoder(), cfg.clone(), &ck).expect("resume");
    assert_eq!(resumed.epochs_done(), 1);
    let out = resumed
        .train(&set, None, TrainControl::default(), &mut no_events())
        .expect("train");
    assert_eq!(
        (out.epochs_done, out.cancelled, out.history.len()),
        (3, false, 3)
    );
    let diff = max_diff(&resumed.adapter_tensors().expect("adapters"), &want);
    println!("resumed vs uninterrupted: max abs diff {diff:e}");
    assert!(diff <= 1e-6, "resume drifted by {diff}");
    assert!(
        max_diff(&want, &saved.adapters) > 1e-4,
        "epochs 2-3 changed nothing"
    );

    let other = PcpoConfig { beta: 0.1, ..cfg };
    let err = PcpoTrainer::resume(tiny_decoder(), other, &ck).expect_err("other settings");
    assert!(err.to_string().contains("other settings"), "{err}");
}

/// `train_until` one epoch at a time (evaluating in between, as the
/// PCPO-vs-DPO experiment does) ends at the same weights and step count as
/// one `train`; it stops at the requested epoch and never past
/// `config.epochs`.
#[test]
fn train_until_epoch_by_epoch_matches_one_run() {
    let set = tiny_set(5, 34);
    let cfg = tiny_config();
    let mut straight = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    straight
        .train(&set, None, TrainControl::default(), &mut no_events())
        .expect("train");
    let mut stepped = PcpoTrainer::new(tiny_decoder(), cfg.clone()).expect("trainer");
    for epoch in 1..=cfg.epochs {
        let out = stepped
            .train_until(epoch, &set, None, TrainControl::default(), &mut no_events())
            .expect("train");
        assert_eq!(out.epochs_done, epoch);
        stepped.evaluate(&set).expect("evaluate");
    }
    let out = stepped
        .train_until(
            cfg.epochs + 2,
            &set,
            None,
            TrainControl::default(),
            &mut no_events(),
        )
        .expect("train");
    assert_eq!(out.epochs_done, cfg.epochs);
    assert_eq!(
        stepped.optimizer().step_count(),
        straight.optimizer().step_count()
    );
    let diff = max_diff(
        &stepped.adapter_tensors().expect("adapters"),
        &straight.adapter_tensors().expect("adapters"),
    );
    assert!(diff <= 1e-6, "epoch-by-epoch drifted by {diff}");
}

/// On the real SmolLM2-135M (GGUF dequantised to f32): two epochs on two
/// pairs raise the mean reward margin above zero and leave the base weights
/// bit-identical.
#[test]
#[ignore = "needs SmolLM2: set ADSTUDIO_SMOLLM2_GGUF"]
fn smollm2_short_run_raises_margin() {
    use adstudio::ml::pcpo::{answer_ids, product_prompt};
    use adstudio::ml::prompt_model::{ChatMessage, GgufPrecision, LoadOptions, PromptModel, Role};
    let path = crate::common::models::smollm2_gguf();
    let opts = LoadOptions {
        precision: GgufPrecision::F32,
        ..LoadOptions::default()
    };
    let model = PromptModel::load(&path, &opts).expect("load");
    let tok = model.tokenizer();
    let mut set = TrainingSet::default();
    for title in ["Red ceramic mug", "Leather hiking boot"] {
        let msg = [ChatMessage::new(
            Role::User,
            format!("Product: {title}. Background?"),
        )];
        set.products
            .push(product_prompt(tok, model.template(), &msg, title).expect("prompt"));
    }
    for (i, (c, r)) in [
        ("wooden kitchen table", "golden luxury podium"),
        ("misty forest trail", "velvet glamour"),
    ]
    .iter()
    .enumerate()
    {
        set.pairs.push(PreferencePair {
            product: i,
            chosen: answer_ids(tok, c).expect("ids"),
            rejected: answer_ids(tok, r).expect("ids"),
        });
    }
    let cfg = PcpoConfig {
        learning_rate: 2e-3,
        epochs: 2,
        batch_size: 2,
        warmup_ratio: 0.0,
        ..PcpoConfig::default()
    };
    let base = model.decoder().clone();
    let mut trainer = PcpoTrainer::new(base.clone(), cfg).expect("trainer");
    trainer
        .train(&set, None, TrainControl::default(), &mut no_events())
        .expect("train");
    let after = trainer.evaluate(&set).expect("eval");
    println!("after: {after:?}");
    assert!(after.reward_margin > 0.0, "{after:?}");
    let trained = trainer.into_decoder();
    let w0 = base
        .projection(3, LoraTarget::Q)
        .and_then(|p| p.weight())
        .expect("w");
    let w1 = trained
        .projection(3, LoraTarget::Q)
        .and_then(|p| p.weight())
        .expect("w");
    assert_eq!(values(w0), values(w1));
}
