//! PCPO (product-centric preference optimisation) fine-tuning of the prompt
//! model's decoder with LoRA adapters — pure ML, no UI, no store.
//!
//! - [`data`]: tokenised products (prompt ids + title span) and preference pairs;
//! - [`corrupt`]: the corrupted product condition (masked title tokens, zeroed
//!   image patches, or another product's prompt), seeded and pure;
//! - [`loss`]: DPO and PCPO losses, reward margin and preference accuracy;
//! - [`objective`]: one mini-batch through the policy (adapters on) and the
//!   reference (the same decoder, adapters off);
//! - [`adamw`], [`schedule`]: the optimiser and its warm-up + cosine schedule;
//! - [`trainer`], [`checkpoint`]: the loop, cancellation, checkpoints, resume;
//! - [`adapter`]: loading a saved adapter, refused for another base model;
//! - [`vision`]: the frozen image encoder of the multimodal (LLaVA) model
//!   and the per-epoch cache of the products' image features;
//! - [`luxury`]: the product-agnostic luxury-word preference source of the
//!   PCPO-versus-DPO experiment.
//!
//! Loss per pair: `L_DPO + w * L_PCPO` with
//! `L_DPO = -log sigmoid(b ((pi_c - pi_r) - (ref_c - ref_r)))` and
//! `L_PCPO = -log sigmoid(b ((pi_c - pi_c') - (ref_c - ref_c')))`, where `'`
//! scores the chosen answer under the corrupted condition; `b = 0.5`,
//! `w = 1.0` by default ([`PcpoConfig`]).

pub mod adamw;
pub mod adapter;
pub mod checkpoint;
pub mod config;
pub mod corrupt;
pub mod data;
pub mod encode;
pub mod error;
pub mod loss;
pub mod luxury;
pub mod objective;
pub mod schedule;
pub mod trainer;
pub mod vision;

pub use adamw::{AdamW, AdamWParams};
pub use adapter::{load_adapter_for, read_adapter, BaseModel};
pub use checkpoint::{load_checkpoint, save_adapter, Checkpoint, TrainState};
pub use config::PcpoConfig;
pub use corrupt::{
    choose_corruption, corrupt_image, corrupt_text, corrupted_count, mask_title, patch_grid,
    zero_patches, CorruptedPrompt, CorruptionChoice, ImageCorruption, TextCorruption, PATCH_SIZE,
};
pub use data::{pad_batch, PreferencePair, ProductPrompt, Sequence, TrainingSet};
pub use encode::{answer_ids, expand_image_token, image_product_prompt, product_prompt};
pub use error::{PcpoError, Result};
pub use loss::{combined_loss, neg_log_sigmoid, EpochMetrics, MetricSums, PairLogps};
pub use luxury::{luxury_count, luxury_pairs, prefers_first, LuxuryPair, LUXURY_WORDS};
pub use objective::{
    batch_objective, batch_objective_with, donor_answer, policy_and_reference,
    policy_and_reference_with, Objective, PairBatch,
};
pub use schedule::LrSchedule;
pub use trainer::{EpochReport, PcpoTrainer, TrainControl, TrainEvent, TrainOutcome};
pub use vision::{FeatureCache, ImageEncoder};
