//! Turning a model answer into a Stable Diffusion prompt: quotes, newlines
//! and periods removed, chatty lead-ins dropped, at most 77 CLIP tokens.

use super::error::Result;
use super::tokenizer::TextTokenizer;

/// CLIP's context length including its start and end tokens.
pub const CLIP_MAX_TOKENS: usize = 77;

/// Counts prompt tokens (without start/end tokens).
pub trait TokenCounter {
    /// Number of tokens of `text`, special tokens excluded.
    fn count_tokens(&self, text: &str) -> Result<usize>;
}

impl TokenCounter for TextTokenizer {
    fn count_tokens(&self, text: &str) -> Result<usize> {
        self.count(text)
    }
}

impl TokenCounter for tokenizers::Tokenizer {
    fn count_tokens(&self, text: &str) -> Result<usize> {
        let enc = self
            .encode(text, false)
            .map_err(|e| super::error::PromptModelError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().len())
    }
}

const LEAD_IN_WORDS: [&str; 8] = [
    "prompt",
    "background",
    "here",
    "sure",
    "description",
    "scene",
    "suggestion",
    "answer",
];

/// Drops a lead-in such as `Background prompt:` or `Sure! Here is one:`.
fn strip_lead_in(text: &str) -> &str {
    if let Some((head, tail)) = text.split_once(':') {
        let head_l = head.to_lowercase();
        let short = head.split_whitespace().count() <= 8;
        if short && LEAD_IN_WORDS.iter().any(|w| head_l.contains(w)) && !tail.trim().is_empty() {
            return tail;
        }
    }
    text
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '`' | '“' | '”' | '„' | '«' | '»' | '‹' | '›')
}

/// Removes quotes (single quotes only where they quote, not in `ocean's`),
/// newlines and periods (a sentence-ending period becomes a comma, other
/// periods are dropped except decimal points), lead-ins and list markers;
/// collapses whitespace and trims separators at both ends.
pub fn clean_answer(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|l| !l.is_empty())
        .collect();
    let joined = lines.join(", ");
    let text = strip_lead_in(joined.trim());
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 {
            chars.get(i - 1).copied()
        } else {
            None
        };
        let next = chars.get(i + 1).copied();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        match c {
            c if is_quote(c) => {}
            '\'' | '‘' | '’' if !(word(prev) && word(next)) => {}
            '.' if prev.is_some_and(|p| p.is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit()) =>
            {
                out.push('.')
            }
            '.' | '!' | '?' | ';' => {
                if next.is_some_and(char::is_whitespace) {
                    out.push(',');
                }
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    let mut collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    while collapsed.contains(",,") || collapsed.contains(", ,") {
        collapsed = collapsed.replace(", ,", ",").replace(",,", ",");
    }
    collapsed
        .trim_matches(|c: char| c == ',' || c == ':' || c.is_whitespace())
        .to_string()
}

/// Drops trailing words until `text` fits in `CLIP_MAX_TOKENS - 2` tokens.
pub fn truncate_to_clip(text: &str, counter: &dyn TokenCounter) -> Result<String> {
    let budget = CLIP_MAX_TOKENS - 2;
    let mut words: Vec<&str> = text.split_whitespace().collect();
    loop {
        let candidate = words.join(" ");
        if words.is_empty() || counter.count_tokens(&candidate)? <= budget {
            return Ok(candidate.trim_end_matches([',', ' ']).to_string());
        }
        words.pop();
    }
}

/// [`clean_answer`] then [`truncate_to_clip`].
pub fn clean_for_sd(raw: &str, counter: &dyn TokenCounter) -> Result<String> {
    truncate_to_clip(&clean_answer(raw), counter)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Words;
    impl TokenCounter for Words {
        fn count_tokens(&self, text: &str) -> Result<usize> {
            Ok(text.split_whitespace().count())
        }
    }

    #[test]
    fn removes_quotes_newlines_periods_and_lead_ins() {
        let raw = "Sure! Here is a prompt:\n\"A sunlit marble countertop. Soft morning light.\"\n";
        assert_eq!(
            clean_answer(raw),
            "A sunlit marble countertop, Soft morning light"
        );
    }

    #[test]
    fn keeps_apostrophes_in_words_and_decimals() {
        assert_eq!(
            clean_answer("the ocean's edge, 3.5 metres away."),
            "the ocean's edge, 3.5 metres away"
        );
        assert_eq!(clean_answer("a 'cozy' cabin"), "a cozy cabin");
    }

    #[test]
    fn list_items_are_joined_with_commas() {
        assert_eq!(
            clean_answer("- wooden table\n- warm light"),
            "wooden table, warm light"
        );
    }

    #[test]
    fn truncates_to_75_counted_tokens() {
        let long = vec!["word"; 100].join(" ");
        let out = truncate_to_clip(&long, &Words).expect("truncate");
        assert_eq!(out.split_whitespace().count(), 75);
    }
}
