//! The reveal of the last label: what blind labelling hid (prompts, seeds,
//! reward-model scores or observed CTRs, the model's P(left better)) with
//! the labeler's answer. Shown briefly while the next pair is on screen.

use crate::app::{Answer, HiddenInfo, LabelItem, RevealView};

use super::theme;

/// What an answer is called in the reveal.
pub fn answer_text(answer: Answer) -> &'static str {
    match answer {
        Answer::Left => "left better",
        Answer::Right => "right better",
        Answer::Tie => "tie",
        Answer::CantTell => "can't tell",
        Answer::Skip => "skip",
    }
}

/// One side's hidden information on one line.
pub fn hidden_text(item: &LabelItem) -> String {
    let HiddenInfo {
        prompt,
        seed,
        rm,
        observed_ctr,
        creative_id,
    } = &item.hidden;
    let mut parts = Vec::new();
    if let Some(prompt) = prompt {
        parts.push(format!("prompt \"{prompt}\""));
    }
    if let Some(seed) = seed {
        parts.push(format!("seed {seed}"));
    }
    match rm {
        Some(score) => {
            let ctr = score
                .ctr
                .map_or_else(String::new, |c| format!(", CTR {:.2}%", 100.0 * c));
            parts.push(format!("RM score {:+.3}{ctr}", score.score));
        }
        None if prompt.is_some() => parts.push("not scored".into()),
        None => {}
    }
    if let Some(id) = creative_id {
        parts.push(format!("creative {id}"));
    }
    if let Some(ctr) = observed_ctr {
        parts.push(format!("observed CTR {:.2}%", 100.0 * ctr));
    }
    if parts.is_empty() {
        parts.push(item.item.describe());
    }
    parts.join(" · ")
}

/// Draws the reveal.
pub fn reveal_ui(ui: &mut egui::Ui, shown: &RevealView) {
    let reveal = &shown.reveal;
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("Last pair ({}):", reveal.title));
        ui.label(format!("you answered {}", answer_text(shown.answer)));
        match shown.id {
            Some(id) => ui.colored_label(theme::HINT_TEXT, format!("(label #{id})")),
            None => ui.colored_label(
                theme::ERROR_TEXT,
                "(saved on this computer: the store is unreachable; it is written when it is back)",
            ),
        };
    });
    ui.label(format!("Left: {}", hidden_text(&reveal.left)));
    ui.label(format!("Right: {}", hidden_text(&reveal.right)));
    match (reveal.p_left, &reveal.model_id) {
        (Some(p), model) => {
            let model = model
                .as_deref()
                .map_or_else(String::new, |m| format!(" ({m})"));
            ui.label(format!("Reward model: P(left better) = {p:.2}{model}"));
        }
        (None, _) => {
            ui.colored_label(
                theme::HINT_TEXT,
                "Reward model: no probability (the pair was not scored together)",
            );
        }
    }
}
