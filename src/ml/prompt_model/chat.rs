//! Chat templates: the prompt layouts instruct models were trained with.

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The user's request.
    User,
    /// The model's answer.
    Assistant,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// Supported prompt layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTemplate {
    /// `<|im_start|>role\n...<|im_end|>` (Qwen, SmolLM...).
    ChatMl,
    /// Llama 2: `<s>[INST] <<SYS>>...<</SYS>> ... [/INST]`.
    Llama2,
    /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>`.
    Llama3,
}

impl ChatTemplate {
    /// Picks the layout from a Jinja chat template string (GGUF
    /// `tokenizer.chat_template` or `tokenizer_config.json`); ChatML when
    /// there is none or it is not recognised.
    pub fn detect(template: Option<&str>) -> Self {
        match template {
            Some(t) if t.contains("<|start_header_id|>") => Self::Llama3,
            Some(t) if t.contains("[INST]") => Self::Llama2,
            _ => Self::ChatMl,
        }
    }

    /// Renders the conversation; with `add_generation_prompt` the text ends
    /// where the assistant's answer starts.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> String {
        let mut out = String::new();
        match self {
            Self::ChatMl => {
                for m in messages {
                    out.push_str(&format!(
                        "<|im_start|>{}\n{}<|im_end|>\n",
                        m.role.name(),
                        m.content
                    ));
                }
                if add_generation_prompt {
                    out.push_str("<|im_start|>assistant\n");
                }
            }
            Self::Llama3 => {
                out.push_str("<|begin_of_text|>");
                for m in messages {
                    out.push_str(&format!(
                        "<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>",
                        m.role.name(),
                        m.content.trim()
                    ));
                }
                if add_generation_prompt {
                    out.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
                }
            }
            Self::Llama2 => {
                let mut system = String::new();
                for m in messages {
                    match m.role {
                        Role::System => {
                            system = format!("<<SYS>>\n{}\n<</SYS>>\n\n", m.content.trim())
                        }
                        Role::User => {
                            out.push_str(&format!(
                                "<s>[INST] {}{} [/INST]",
                                system,
                                m.content.trim()
                            ));
                            system.clear();
                        }
                        Role::Assistant => out.push_str(&format!(" {} </s>", m.content.trim())),
                    }
                }
            }
        }
        out
    }
}
