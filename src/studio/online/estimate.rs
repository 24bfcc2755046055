//! How long a round will take, said before round 1: unit costs measured by
//! a short calibration on the first product (two suggestions, a 1-step
//! and a 2-step render, one reward-model comparison, one evaluation of the
//! policy on that pair), then multiplied out per product and round.

use std::time::Instant;

use anyhow::Context as _;
use image::RgbImage;

use crate::jobs::Reporter;
use crate::ml::reward::RewardModel;
use crate::render::{RenderParams, RenderRequest};

use super::super::progress::Progress;
use super::super::render::render_variant;
use super::super::Studio;
use super::policy::Policy;
use super::round::{PreparedItem, RoundPair, Turn};
use super::{OnlineProgress, OnlineSettings, Phase};

/// Measured costs, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UnitCosts {
    /// Writing one product's two suggestions.
    pub suggest: f64,
    /// One render's cost besides its steps (text encoding, VAE, saving).
    pub render_fixed: f64,
    /// One denoising step.
    pub step: f64,
    /// One reward-model comparison (and storing it).
    pub score: f64,
    /// Training on one pair (one epoch).
    pub train_pair: f64,
}

/// The estimate of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundEstimate {
    /// The unit costs.
    pub costs: UnitCosts,
    /// Products per round.
    pub products: usize,
    /// Denoising steps per render.
    pub steps: usize,
    /// Rounds.
    pub rounds: usize,
}

impl RoundEstimate {
    /// Seconds per product: two suggestions, two renders of `steps` steps,
    /// one comparison and one pair of training.
    pub fn per_product(&self) -> f64 {
        let c = &self.costs;
        let render = c.render_fixed + self.steps as f64 * c.step;
        c.suggest + 2.0 * render + c.score + c.train_pair
    }

    /// Seconds per round.
    pub fn per_round(&self) -> f64 {
        self.products as f64 * self.per_product()
    }

    /// Seconds for every round.
    pub fn total(&self) -> f64 {
        self.rounds as f64 * self.per_round()
    }

    /// `about 3 min 20 s per round (10 min 0 s for 3 rounds)`.
    pub fn summary(&self) -> String {
        format!(
            "about {} per round ({} for {} round{}; {} product{} x 2 renders of {} steps)",
            duration_text(self.per_round()),
            duration_text(self.total()),
            self.rounds,
            plural(self.rounds),
            self.products,
            plural(self.products),
            self.steps
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `42 s`, `3 min 05 s`, `1 h 02 min`.
pub fn duration_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

fn timed<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    let t = Instant::now();
    let value = f()?;
    Ok((value, t.elapsed().as_secs_f64()))
}

/// A `steps`-step render of `item` (not saved) and its seconds.
fn time_render(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    item: &PreparedItem,
    prompt: &str,
    steps: usize,
    seed: u64,
) -> anyhow::Result<(RgbImage, f64)> {
    let request = RenderRequest {
        params: RenderParams {
            prompt: prompt.to_string(),
            seed,
            steps,
            n_variants: 1,
            ..RenderParams::default()
        },
        canvas: item.canvas_settings,
        ..RenderRequest::default()
    };
    let ((variant, _), seconds) =
        timed(|| render_variant(&studio.models, rep, &item.canvas, &request, 0))?;
    Ok((variant.image, seconds))
}

/// Measures the unit costs on the first product (models are loaded first,
/// so loading is not counted) and returns the run's estimate.
pub fn calibrate(
    studio: &Studio,
    rep: &dyn Reporter<Progress>,
    items: &[PreparedItem],
    policy: &mut Policy,
    s: &OnlineSettings,
) -> anyhow::Result<RoundEstimate> {
    let item = items.first().context("no product to calibrate on")?;
    rep.report(Progress::Online(OnlineProgress::Phase {
        round: 0,
        phase: Phase::Calibrating,
        product: 0,
        products: items.len(),
    }));
    studio.models.with_prompt_model(|_| ())?;
    studio.models.with_diffusion(|_| ())?;
    studio.models.with_reward_model(|_| ())?;
    let seed = Turn {
        round: 0,
        index: 0,
        products: items.len(),
    }
    .seed(s.seed);
    let (texts, suggest) =
        timed(|| super::round::two_suggestions(studio, rep, item, policy, s, seed))?;
    let prompt = texts
        .first()
        .map_or(item.title.as_str(), |(t, _)| t.as_str());
    let (image, one) = time_render(studio, rep, item, prompt, 1, seed)?;
    let (_, two) = time_render(studio, rep, item, prompt, 2, seed)?;
    let step = (two - one).max(0.0);
    let (_, score) = timed(|| {
        studio
            .models
            .with_reward_model(|engine| engine.model.score_all(&[&image, &image]))?
            .context("scoring")
    })?;
    let train_pair = match texts.as_slice() {
        [a, b, ..] => policy.time_pairs(&[RoundPair {
            product: item.id,
            title: item.title.clone(),
            chosen: a.0.clone(),
            rejected: b.0.clone(),
            renders: [crate::store::RenderId(0); 2],
            p_chosen: 0.5,
        }])?,
        _ => 0.0,
    };
    Ok(RoundEstimate {
        costs: UnitCosts {
            suggest,
            render_fixed: (one - step).max(0.0),
            step,
            score,
            train_pair,
        },
        products: items.len(),
        steps: s.steps,
        rounds: s.rounds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_multiplies_unit_costs_out() {
        let e = RoundEstimate {
            costs: UnitCosts {
                suggest: 2.0,
                render_fixed: 1.5,
                step: 0.5,
                score: 0.25,
                train_pair: 0.75,
            },
            products: 3,
            steps: 10,
            rounds: 4,
        };
        // 2 + 2 * (1.5 + 10 * 0.5) + 0.25 + 0.75 = 16 s per product.
        assert_eq!(e.per_product(), 16.0);
        assert_eq!(e.per_round(), 48.0);
        assert_eq!(e.total(), 192.0);
        assert_eq!(
            e.summary(),
            "about 48 s per round (3 min 12 s for 4 rounds; 3 products x 2 renders of 10 steps)"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(0.4), "0 s");
        assert_eq!(duration_text(59.6), "1 min 00 s");
        assert_eq!(duration_text(185.0), "3 min 05 s");
        assert_eq!(duration_text(3720.0), "1 h 02 min");
        assert_eq!(duration_text(-3.0), "0 s");
    }
}
