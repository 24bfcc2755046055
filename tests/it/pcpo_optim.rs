//! The trainer's AdamW matches candle-nn's AdamW step for step, and its
//! saved moments and step count continue a run exactly.

use adstudio::ml::pcpo::{AdamW, AdamWParams};
use candle_core::{Device, Tensor, Var};
use candle_nn::Optimizer;

fn loss(x: &Var) -> Tensor {
    let target = Tensor::new(&[1.5f32, -2.0, 0.25, 3.0], &Device::Cpu).expect("target");
    let w = Tensor::new(&[1.0f32, 4.0, 0.5, 2.0], &Device::Cpu).expect("w");
    ((x.as_tensor() - target).expect("sub").sqr().expect("sqr") * w)
        .expect("mul")
        .sum_all()
        .expect("sum")
}

fn start() -> Var {
    Var::new(&[0.1f32, 0.2, -0.3, 0.4], &Device::Cpu).expect("var")
}

fn vals(v: &Var) -> Vec<f32> {
    v.as_tensor().to_vec1::<f32>().expect("values")
}

#[test]
fn adamw_matches_candle_nn_and_resumes_from_its_state() {
    let params = AdamWParams {
        weight_decay: 0.05,
        ..AdamWParams::default()
    };
    let lr = 0.03;
    let theirs = start();
    let mut reference = candle_nn::AdamW::new(
        vec![theirs.clone()],
        candle_nn::ParamsAdamW {
            lr,
            beta1: params.beta1,
            beta2: params.beta2,
            eps: params.eps,
            weight_decay: params.weight_decay,
        },
    )
    .expect("candle AdamW");
    let ours = start();
    let mut opt = AdamW::new(vec![("x".to_string(), ours.clone())], params).expect("ours");
    let resumed = start();
    let mut second: Option<AdamW> = None;
    for step in 0..8 {
        reference
            .step(&loss(&theirs).backward().expect("bwd"))
            .expect("step");
        opt.step(&loss(&ours).backward().expect("bwd"), lr)
            .expect("step");
        let (a, b) = (vals(&theirs), vals(&ours));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6, "step {step}: {a:?} vs {b:?}");
        }
        if let Some(o) = second.as_mut() {
            o.step(&loss(&resumed).backward().expect("bwd"), lr)
                .expect("step");
            assert_eq!(vals(&resumed), vals(&ours), "resumed copy, step {step}");
        }
        if step == 2 {
            resumed.set(ours.as_tensor()).expect("copy weights");
            let mut o = AdamW::new(vec![("x".to_string(), resumed.clone())], params).expect("o");
            o.load_state(&opt.state_tensors().expect("state"), opt.step_count())
                .expect("load");
            second = Some(o);
        }
    }
    assert!(vals(&ours)[0] > 0.3, "no progress: {:?}", vals(&ours));
}
