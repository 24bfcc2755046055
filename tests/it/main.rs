//! The integration tests, as modules of one test crate: one binary to link
//! (each links candle and egui) instead of one per file. Helpers shared by
//! several modules are in `common`.
//!
//! Run one module with `cargo test --test it MODULE::`.

mod common;

mod assets;
mod cli_bench;
mod cli_experiment;
mod cli_export;
mod cli_flags;
mod cli_label;
mod cli_models;
mod cli_models_fetch;
mod cli_pcpo;
mod cli_pcpo_adapters;
mod cli_pcpo_online;
mod cli_prefs;
mod cli_prepare;
mod cli_rm;
mod cli_suggest;
mod diffusion_inpaint;
mod diffusion_ldm;
mod diffusion_loading;
mod diffusion_lora;
mod diffusion_parity;
mod diffusion_pipeline_parity;
mod diffusion_random;
mod export_pixels;
mod jobs;
mod label_crash;
mod layering;
mod matching;
mod pcpo_corrupt;
mod pcpo_dpo_parity;
mod pcpo_encode;
mod pcpo_optim;
mod pcpo_train;
mod product_canvas;
mod product_intake;
mod product_mask;
mod prompt_constrained;
mod prompt_gguf;
mod prompt_llava_parity;
mod prompt_qwen2_parity;
mod prompt_smollm2;
mod relevance;
mod render_cli;
mod render_pipeline;
mod render_png;
mod reward_clicklog;
mod reward_clip_parity;
mod reward_llava;
mod reward_model;
mod reward_synthetic;
mod saliency_errors;
mod saliency_parity;
mod saliency_pipeline;
mod saliency_quality;
mod store_basic;
mod store_clicklog;
mod store_crash;
mod store_migration;
mod suggest_pipeline;
mod ui_adapters;
mod ui_catalog;
mod ui_label;
mod ui_label_stats;
mod ui_models;
mod ui_online;
mod ui_render;
mod ui_scores;
mod ui_studio;
mod ui_suggest;
