//! Instruction phrasings for background suggestions and the image facts the
//! text-only mode adds to them.

/// System message of every suggestion request.
pub const SYSTEM_PROMPT: &str = "You write prompts for Stable Diffusion. Given a product, you describe \
one background scene for its advertising photo: the setting, surfaces, props, lighting and mood. \
Do not describe the product itself. Answer with a single line of at most 30 words, no quotes, no explanations.";

/// Worked examples shown to the model before the real request (few-shot
/// turns help small models answer with a scene, not a product description).
pub const EXAMPLES: [(&str, &str); 2] = [
    (
        "Ceramic coffee mug, 350 ml",
        "rustic wooden table in a sunlit kitchen, steam and coffee beans, soft morning light, blurred green plants, warm cozy mood",
    ),
    (
        "Wireless noise-cancelling headphones",
        "sleek dark desk with neon blue accent lights, city skyline at night through a large window, modern minimalist tech mood",
    ),
];

/// The phrasings; `{title}` and `{facts}` are filled in.
pub const PHRASINGS: [&str; 10] = [
    "Product: {title}.{facts} Write a concise Stable Diffusion prompt for an appealing ad background for this product.",
    "I am making an advertising photo of {title}.{facts} Describe a background scene that would make people want to click.",
    "Suggest an eye-catching background for a product ad featuring {title}.{facts} Reply with a short image-generation prompt.",
    "Write a Stable Diffusion prompt describing the setting behind {title} in an online shop banner.{facts}",
    "{title} needs a new ad image.{facts} In one line, describe an attractive backdrop that fits the product.",
    "Give one short, vivid description of a background scene for an ad of {title}.{facts} Mention the setting and the lighting.",
    "Imagine a professional product photo of {title}.{facts} What background should it have? Answer as a concise Stable Diffusion prompt.",
    "Create a background prompt for an e-commerce advertisement of {title}.{facts} Keep it concise and visual.",
    "For the product {title}, propose an appealing ad background that matches its style and use.{facts} Answer with a Stable Diffusion prompt only.",
    "Describe, as a short Stable Diffusion prompt, a scene in which {title} would be shown in a high-converting ad.{facts}",
];

/// Facts measured on the product image, for models that cannot see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageFacts {
    /// Colour names, most dominant first (e.g. `["white", "navy blue"]`).
    pub dominant_colors: Vec<String>,
    /// Width / height of the product's bounding box.
    pub aspect: Option<f32>,
    /// Mean luminance of the product in [0, 1].
    pub brightness: Option<f32>,
    /// Category words (e.g. `["shoe", "sports"]`).
    pub category_words: Vec<String>,
}

impl ImageFacts {
    /// One sentence stating the facts, or an empty string when there are none.
    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if !self.dominant_colors.is_empty() {
            parts.push(format!(
                "its main colours are {}",
                self.dominant_colors.join(", ")
            ));
        }
        if let Some(a) = self.aspect {
            let shape = if a > 1.3 {
                "wide"
            } else if a < 0.77 {
                "tall"
            } else {
                "roughly square"
            };
            parts.push(format!("it is {shape}"));
        }
        if let Some(b) = self.brightness {
            let tone = if b > 0.66 {
                "light"
            } else if b < 0.33 {
                "dark"
            } else {
                "medium"
            };
            parts.push(format!("it has {tone} tones"));
        }
        if !self.category_words.is_empty() {
            parts.push(format!("it belongs to: {}", self.category_words.join(", ")));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" In the photo, {}.", parts.join("; "))
        }
    }
}

/// The user message for phrasing `index` (modulo the number of phrasings).
pub fn instruction(index: usize, title: &str, facts: Option<&ImageFacts>) -> String {
    let template = PHRASINGS[index % PHRASINGS.len()];
    let facts = facts.map(ImageFacts::sentence).unwrap_or_default();
    let title = title.trim_end_matches('.');
    template
        .replace("{title}", title)
        .replace("{facts}", &facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrasing_contains_title_and_facts() {
        let facts = ImageFacts {
            dominant_colors: vec!["red".into()],
            aspect: Some(0.5),
            brightness: Some(0.9),
            category_words: vec![],
        };
        for i in 0..PHRASINGS.len() {
            let text = instruction(i, "Red running shoe", Some(&facts));
            assert!(text.contains("Red running shoe"), "{text}");
            assert!(
                text.contains("main colours are red; it is tall; it has light tones"),
                "{text}"
            );
            assert!(!text.contains('{'), "{text}");
        }
    }
}
