//! A loaded prompt model: decoder + tokenizer + chat template, from a GGUF
//! file or a Hugging Face model folder.

use std::ops::ControlFlow;
use std::path::Path;

use candle_core::Device;

use super::batch::{generate_batch, RowFlow};
use super::chat::{ChatMessage, ChatTemplate};
use super::config::DecoderConfig;
use super::constraint::TokenConstraint;
use super::decoder::Decoder;
use super::error::{PromptModelError, Result};
use super::generate::{generate, Generation, PrefixCache, SamplingParams};
use super::gguf::{GgufFile, GgufPrecision};
use super::load::{folder_tokenizer, mmap_var_builder, safetensors_files};
use super::tokenizer::TextTokenizer;
use super::weights::VarBuilderSource;

/// Options for [`PromptModel::load`].
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Precision of GGUF linear layers (ignored for safetensors, which load as f32).
    pub precision: GgufPrecision,
    /// Device for the weights.
    pub device: Device,
}

impl Default for LoadOptions {
    /// GGUF layers as [`GgufPrecision::Auto`] decides, on the CPU.
    fn default() -> Self {
        Self {
            precision: GgufPrecision::Auto,
            device: Device::Cpu,
        }
    }
}

/// A text prompt model ready to chat.
pub struct PromptModel {
    decoder: Decoder,
    tokenizer: TextTokenizer,
    template: ChatTemplate,
    prefix: PrefixCache,
}

fn is_gguf(path: &Path) -> bool {
    if path.is_dir() {
        return false;
    }
    let mut magic = [0u8; 4];
    let read =
        std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
    read.is_ok() && &magic == b"GGUF"
}

impl PromptModel {
    /// Loads a `.gguf` file, or a folder with `config.json`, safetensors
    /// weights and `tokenizer.json` (chat template from `tokenizer_config.json`).
    /// A LLaVA folder loads its language model only (text-only use); see
    /// [`super::MultimodalPromptModel`] for image input.
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        if !path.exists() {
            return Err(PromptModelError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "model path does not exist",
                ),
            });
        }
        if path.is_file() {
            if !is_gguf(path) {
                return Err(PromptModelError::Gguf {
                    path: path.to_path_buf(),
                    reason: "not a GGUF file (bad magic); pass a .gguf file or a model folder"
                        .to_string(),
                });
            }
            return Self::load_gguf(path, opts);
        }
        Self::load_dir(path, opts)
    }

    fn load_gguf(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let file = GgufFile::open(path, &opts.device)?;
        let cfg = file.config()?;
        let tokenizer = TextTokenizer::from_gguf(&file)?;
        let template = ChatTemplate::detect(file.meta_str("tokenizer.chat_template"));
        let decoder = Decoder::from_source(&cfg, &file.source(opts.precision), "")?;
        Ok(Self {
            decoder,
            tokenizer,
            template,
            prefix: PrefixCache::default(),
        })
    }

    fn load_dir(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let cfg_path = dir.join("config.json");
        let cfg = DecoderConfig::from_file(&cfg_path)?;
        let (tokenizer, template) = folder_tokenizer(dir, &cfg)?;
        let files = safetensors_files(dir)?;
        let vb = mmap_var_builder(&files, &opts.device)?;
        let is_llava = std::fs::read_to_string(&cfg_path)
            .map(|t| t.contains("\"llava\""))
            .unwrap_or(false);
        let names = if is_llava { "language_model." } else { "" };
        let decoder = Decoder::from_source(&cfg, &VarBuilderSource::new(vb), names)?;
        Ok(Self {
            decoder,
            tokenizer,
            template,
            prefix: PrefixCache::default(),
        })
    }

    /// Assembles a model from parts.
    pub fn from_parts(decoder: Decoder, tokenizer: TextTokenizer, template: ChatTemplate) -> Self {
        Self {
            decoder,
            tokenizer,
            template,
            prefix: PrefixCache::default(),
        }
    }

    /// The decoder (e.g. to attach LoRA adapters).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Mutable decoder (forgets the cached prompt prefix, since the caller
    /// may change weights or adapters).
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        self.prefix.clear();
        &mut self.decoder
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The chat layout in use.
    pub fn template(&self) -> ChatTemplate {
        self.template
    }

    /// Token ids of a chat prompt ending where the assistant answers.
    pub fn chat_prompt_ids(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        self.tokenizer.encode(&self.template.render(messages, true))
    }

    /// Generates the assistant's answer to `messages`, streaming text pieces
    /// to `on_token` (return `ControlFlow::Break(())` to cancel).
    pub fn chat(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation> {
        let ids = self.chat_prompt_ids(messages)?;
        generate(
            &mut self.decoder,
            &self.tokenizer,
            &ids,
            params,
            Some(&mut self.prefix),
            on_token,
        )
    }

    /// Samples `rows` answers to the same chat side by side (one batch per
    /// decoding step), row `r` with seed `params.seed + r`.
    pub fn chat_batch(
        &mut self,
        messages: &[ChatMessage],
        params: &SamplingParams,
        rows: usize,
        constraint: Option<&mut dyn TokenConstraint>,
        on_token: &mut dyn FnMut(usize, &str) -> RowFlow,
    ) -> Result<Vec<Generation>> {
        let ids = self.chat_prompt_ids(messages)?;
        generate_batch(
            &mut self.decoder,
            &self.tokenizer,
            &ids,
            params,
            rows,
            Some(&mut self.prefix),
            constraint,
            on_token,
        )
    }
}
