//! The prompt model: a Llama/Qwen2 decoder written for adstudio (with LoRA
//! adapters for the PCPO fine-tune), its loaders (Hugging Face safetensors and
//! GGUF), tokenizer and chat templates, text generation and the product-aware
//! background suggestions built on top of it.

pub mod attention;
pub mod config;
pub mod decoder;
pub mod decoder_lora;
pub mod error;
pub mod layer;
pub mod load;
pub mod logprob;
pub mod lora;
pub mod ops;
pub mod rope;
pub mod weights;

pub use config::{Architecture, DecoderConfig};
pub use decoder::Decoder;
pub use decoder_lora::LoraVars;
pub use error::{PromptModelError, Result};
pub use logprob::{completion_logprob_sums, token_logprobs};
pub use lora::{LoraAdapter, LoraConfig, LoraLinear, LoraTarget};
pub use weights::{VarBuilderSource, WeightSource};
