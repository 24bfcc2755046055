//! The prompt model: a Llama/Qwen2 decoder written for adstudio (with LoRA
//! adapters for the PCPO fine-tune), its loaders (Hugging Face safetensors and
//! GGUF), tokenizer and chat templates, text generation, the LLaVA multimodal
//! variant, and the product-aware background suggestions built on top.
//!
//! Typical use:
//! - text-only (default, SmolLM2 GGUF): [`PromptModel::load`] a `.gguf` file
//!   or a model folder, measure [`image_facts`] on the product image, then
//!   [`suggest_backgrounds`] with a [`SuggestRequest`] (title + facts) and a
//!   [`TokenCounter`] (the CLIP tokenizer when available);
//! - multimodal: [`MultimodalPromptModel::load`] a LLaVA folder, bind an image
//!   with [`MultimodalPromptModel::with_image`] and pass the resulting
//!   [`ImageChat`] to [`suggest_backgrounds`];
//! - training: [`Decoder::attach_lora`] returns the trainable variables,
//!   [`completion_logprob_sums`] gives `log p(y | x)` per row (differentiable),
//!   [`Decoder::set_lora_enabled`]`(false)` turns the policy into the reference.

pub mod attention;
pub mod batch;
pub mod bench;
pub mod category_kinds;
pub mod chat;
pub mod clean;
pub use crate::ml::clip_vision;
pub mod config;
pub mod constraint;
pub mod decoder;
pub mod decoder_lora;
pub mod error;
pub mod export;
pub mod facts;
pub mod frozen;
pub mod generate;
pub mod gguf;
pub mod instructions;
pub mod layer;
pub mod llava;
pub mod load;
pub mod logprob;
pub mod lora;
pub mod matching;
pub mod model;
pub mod multimodal;
pub mod ops;
pub mod pipeline;
pub mod rope;
pub mod scene;
pub mod scene_choice;
pub mod scene_examples;
pub mod scene_fit;
pub mod scene_grammar;
pub mod scene_library;
pub mod screen;
pub mod select;
pub mod suggest;
pub mod title;
pub mod tokenizer;
pub mod weights;

pub use batch::{generate_batch, RowFlow};
pub use bench::{bench, BenchReport};
pub use chat::{ChatMessage, ChatTemplate, Role};
pub use clean::{clean_answer, clean_for_sd, TokenCounter, CLIP_MAX_TOKENS};
pub use clip_vision::ClipVision;
pub use config::{Architecture, DecoderConfig, RopeScaling};
pub use constraint::TokenConstraint;
pub use decoder::Decoder;
pub use decoder_lora::LoraVars;
pub use error::{PromptModelError, Result};
pub use export::{export_hf_folder, export_llava_folder, hf_config, source_tokenizer_config};
pub use facts::image_facts;
pub use generate::{
    generate, generate_from_embeds, generate_prefilled, prefill_embeds, Generation, Prefilled,
    PrefixCache, SamplingParams, StopReason,
};
pub use gguf::{GgufFile, GgufPrecision, GgufSource};
pub use instructions::{ImageFacts, PHRASINGS};
pub use llava::{splice_image_features, Llava, LlavaConfig, Projector};
pub use logprob::{completion_logprob_sums, completion_logprob_sums_from_embeds, token_logprobs};
pub use lora::{LoraAdapter, LoraConfig, LoraLinear, LoraTarget};
pub use matching::{
    calibrate, guess_category, guess_category_with, guess_text, matching_rate, product_text,
    Calibration, Category, CATEGORIES, MATCH_THRESHOLD,
};
pub use model::{LoadOptions, PromptModel};
pub use multimodal::{preprocess_image, ChatModel, ImageChat, MultimodalPromptModel};
pub use suggest::{
    suggest_backgrounds, Candidate, SuggestEvent, SuggestMode, SuggestReport, SuggestRequest,
    Suggestion, TextEmbedder,
};
pub use title::{prompt_title, PromptTitle, PROMPT_TITLE_MAX_WIDTH};
pub use tokenizer::TextTokenizer;
pub use weights::{VarBuilderSource, WeightSource};
