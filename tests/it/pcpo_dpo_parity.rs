//! The DPO loss, rewards and mean reproduce the `dpo` reference fixture
//! (b = 0.1). Tolerance: `max|a - b| <= 1e-4 * max(1, max|b|)` (relative
//! to the reference's largest magnitude). Fixture root: `ADSTUDIO_FIXTURES`.

use crate::common::fixtures;
use crate::common::tensors::assert_close;

use adstudio::ml::pcpo::{combined_loss, neg_log_sigmoid, PairLogps};
use candle_core::{Device, Tensor};

#[test]
fn dpo_losses_match_reference_fixture() {
    let path = fixtures::fixture_dir("dpo").join("io.safetensors");
    let io = candle_core::safetensors::load(&path, &Device::Cpu).expect("dpo io.safetensors");
    let beta = f64::from(io["beta"].to_vec1::<f32>().expect("beta")[0]);
    assert!((beta - 0.1).abs() < 1e-7, "fixture beta {beta}");
    let logps = PairLogps {
        policy_win: io["policy_chosen_logps"].clone(),
        policy_lose: io["policy_rejected_logps"].clone(),
        reference_win: io["reference_chosen_logps"].clone(),
        reference_lose: io["reference_rejected_logps"].clone(),
    };
    let losses = logps.losses(beta).expect("losses");
    assert_close("losses", &losses, &io["losses"]);
    let (chosen, rejected) = logps.rewards(beta).expect("rewards");
    assert_close("chosen_rewards", &chosen, &io["chosen_rewards"]);
    assert_close("rejected_rewards", &rejected, &io["rejected_rewards"]);
    let mean = combined_loss(&losses, None, 1.0)
        .and_then(|m| Ok(m.reshape(1)?))
        .expect("mean");
    assert_close("loss_mean", &mean, &io["loss_mean"]);
}

/// `-log sigmoid` stays finite and exact at large magnitudes, where the
/// naive formula overflows or rounds to zero.
#[test]
fn neg_log_sigmoid_is_stable() {
    let z = Tensor::new(&[-200f32, -30.0, 0.0, 30.0, 200.0], &Device::Cpu).expect("z");
    let got = neg_log_sigmoid(&z)
        .and_then(|t| Ok(t.to_vec1::<f32>()?))
        .expect("nls");
    let want = [200.0f32, 30.0, std::f32::consts::LN_2, 9.357623e-14, 0.0];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{got:?}");
    }
}
