//! The labelling mode: two ads of the same product, side by side or under
//! a split divider, answered with keys or buttons; progress; the reveal of
//! the last label; the name prompt. Nothing that would unblind the shown
//! pair (prompt, seed, reward-model score) is drawn before its label.

use egui::{Color32, Pos2, Rect, Sense, TextureHandle};

use crate::app::{Answer, Command, LabelScope, LabelState, PairCounts, PairView, SideView};

use super::label_reveal::reveal_ui;
use super::large_view::fit_rect;
use super::split_view::split_images_ui;
use super::theme;

/// What the labelling mode shows besides its state.
pub struct LabelView<'a> {
    /// The mode's state.
    pub state: &'a LabelState,
    /// The saved labeler name (empty when none was given yet).
    pub labeler: &'a str,
    /// The title of the product open in the studio, if any.
    pub open_product: Option<&'a str>,
    /// The split position of the split view.
    pub split: f32,
}

/// The answer buttons, in the order shown, with their keys.
const ANSWERS: [(Answer, &str); 5] = [
    (Answer::Left, "Left better (A or Left)"),
    (Answer::Tie, "Tie (T)"),
    (Answer::CantTell, "Can't tell (C)"),
    (Answer::Skip, "Skip (S)"),
    (Answer::Right, "Right better (L or Right)"),
];

/// What the empty pool says.
pub const EMPTY_POOL_HINT: &str = "Nothing to label yet: render at least two variants of a \
     product, or import creatives (adstudio rm import FILE).";

/// Draws the labelling mode in `ui` (the central area).
pub fn label_view_ui(ui: &mut egui::Ui, view: &LabelView<'_>, commands: &mut Vec<Command>) {
    egui::Panel::top("label-header").show(ui, |ui| {
        header_ui(ui, view, commands);
    });
    if view.state.asking_name {
        name_prompt_ui(ui, view.state, commands);
        return;
    }
    egui::Panel::bottom("label-actions").show(ui, |ui| {
        actions_ui(ui, view.state, commands);
        if let Some(reveal) = &view.state.reveal {
            ui.separator();
            reveal_ui(ui, reveal);
        }
    });
    egui::CentralPanel::default().show(ui, |ui| {
        pair_area_ui(ui, view, commands);
    });
}

fn header_ui(ui: &mut egui::Ui, view: &LabelView<'_>, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Labelling");
        if !view.labeler.is_empty() {
            ui.label(format!("as {}", view.labeler));
            if ui.button("Change name").clicked() {
                commands.push(Command::ChangeLabeler);
            }
        }
        ui.separator();
        scope_ui(ui, view, commands);
        ui.separator();
        let mut split = view.state.split_view;
        if ui
            .checkbox(&mut split, "Split view")
            .on_hover_text("One image over the other with a draggable divider")
            .changed()
        {
            commands.push(Command::SetLabelSplitView(split));
        }
        if ui.button("Reload").clicked() {
            commands.push(Command::ReloadLabelling);
        }
        if ui.button("Back to studio (Esc)").clicked() {
            commands.push(Command::ShowLabelling(false));
        }
        if view.state.job.is_some() {
            ui.spinner();
        }
    });
    progress_ui(ui, view.state);
}

fn scope_ui(ui: &mut egui::Ui, view: &LabelView<'_>, commands: &mut Vec<Command>) {
    let mut scope = view.state.scope;
    ui.label("Pairs of");
    let before = scope;
    ui.radio_value(&mut scope, LabelScope::All, "all products");
    let this = match view.open_product {
        Some(title) => format!("this product ({title})"),
        None => "this product (none open)".to_string(),
    };
    ui.add_enabled_ui(view.open_product.is_some(), |ui| {
        ui.radio_value(&mut scope, LabelScope::OpenProduct, this);
    });
    if scope != before {
        commands.push(Command::SetLabelScope(scope));
    }
}

/// "1 pair" / "3 pairs".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn counts_text(counts: &PairCounts) -> String {
    format!(
        "{} labelled / {} remaining",
        counts.labelled, counts.remaining
    )
}

fn progress_ui(ui: &mut egui::Ui, state: &LabelState) {
    let Some(screen) = &state.screen else {
        return;
    };
    let progress = &screen.progress;
    ui.horizontal_wrapped(|ui| {
        if let Some((_, counts)) = &progress.group {
            let title = screen
                .pair
                .as_ref()
                .map_or("this product", |p| p.shown.title.as_str());
            ui.label(format!("{title}: {}", counts_text(counts)));
            ui.separator();
        }
        ui.label(format!("Overall: {}", counts_text(&progress.overall)));
        let total = progress.overall.total();
        if total > 0 {
            let fraction = progress.overall.labelled as f32 / total as f32;
            ui.add(egui::ProgressBar::new(fraction).desired_width(160.0));
        }
        if progress.unsaved > 0 {
            ui.separator();
            ui.colored_label(
                theme::ERROR_TEXT,
                format!(
                    "{} saved on this computer: the store is unreachable",
                    plural(progress.unsaved, "label")
                ),
            )
            .on_hover_text("They are written to the store with your next answer once it is back.");
        }
        if progress.held_elsewhere > 0 {
            ui.separator();
            ui.label(format!(
                "{} on other labelers' screens",
                plural(progress.held_elsewhere, "pair")
            ))
            .on_hover_text("Reserved for a few minutes while someone labels them; they come back here if left.");
        }
    });
}

fn name_prompt_ui(ui: &mut egui::Ui, state: &LabelState, commands: &mut Vec<Command>) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.heading("Who is labelling?");
            ui.label("Your name is recorded with each label (asked once, remembered).");
            let mut name = state.name_draft.clone();
            let label = ui.label("Your name");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut name)
                        .hint_text("the name labels are recorded under")
                        .desired_width(240.0),
                )
                .labelled_by(label.id);
            if edit.changed() {
                commands.push(Command::SetLabelerDraft(name.clone()));
            }
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            // The only field on the prompt: typing goes to it.
            if !edit.has_focus() && !entered {
                edit.request_focus();
            }
            let start = ui.add_enabled(
                !name.trim().is_empty(),
                egui::Button::new("Start labelling"),
            );
            if start.clicked() || (entered && !name.trim().is_empty()) {
                commands.push(Command::SetLabeler(name));
            }
            theme::message_ui(ui, state.message.as_ref());
        });
    });
}

fn actions_ui(ui: &mut egui::Ui, state: &LabelState, commands: &mut Vec<Command>) {
    let has_pair = state.screen.as_ref().is_some_and(|s| s.pair.is_some());
    ui.horizontal_wrapped(|ui| {
        for (answer, text) in ANSWERS {
            let button = ui.add_enabled(
                has_pair && state.job.is_none(),
                egui::Button::new(text).min_size(egui::vec2(0.0, 32.0)),
            );
            if button.clicked() {
                commands.push(Command::LabelAnswer(answer));
            }
        }
        ui.separator();
        let undo = ui.add_enabled(
            state.job.is_none() && state.screen.is_some(),
            egui::Button::new("Undo (Backspace / Ctrl+Z)").min_size(egui::vec2(0.0, 32.0)),
        );
        if undo.clicked() {
            commands.push(Command::LabelUndo);
        }
    });
    theme::message_ui(ui, state.message.as_ref());
}

fn pair_area_ui(ui: &mut egui::Ui, view: &LabelView<'_>, commands: &mut Vec<Command>) {
    let Some(screen) = &view.state.screen else {
        if view.state.job.is_some() {
            ui.spinner();
        }
        return;
    };
    let Some(pair) = &screen.pair else {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            if screen.progress.overall.total() == 0 {
                ui.label(EMPTY_POOL_HINT);
            } else if screen
                .progress
                .group
                .as_ref()
                .is_some_and(|(_, c)| c.total() == 0)
            {
                ui.label(
                    "This product has fewer than two renders: render more variants, \
                     or label all products.",
                );
            } else if screen.progress.held_elsewhere > 0 {
                ui.label(format!(
                    "The {} left in this scope are on other labelers' screens. \
                     Reload in a moment, or choose all products.",
                    plural(screen.progress.held_elsewhere, "pair")
                ));
            } else {
                ui.label(
                    "Every pair in this scope is labelled. Undo to see the last one again, \
                     or choose all products.",
                );
            }
        });
        return;
    };
    ui.strong(format!("Which ad is better? {}", pair.shown.title));
    match (&pair.left, &pair.right, view.state.split_view) {
        (Ok(left), Ok(right), true) => {
            ui.colored_label(
                theme::HINT_TEXT,
                "Left image left of the divider, right image right of it",
            );
            if let Some(split) = split_images_ui(ui, left, right, view.split) {
                commands.push(Command::SetSplit(split));
            }
        }
        _ => side_by_side_ui(ui, pair),
    }
}

fn side_by_side_ui(ui: &mut egui::Ui, pair: &PairView) {
    let area = ui.available_rect_before_wrap();
    ui.allocate_rect(area, Sense::hover());
    let gap = 12.0;
    let half = (area.width() - gap) / 2.0;
    let caption = 22.0;
    let left_area = Rect::from_min_size(area.min, egui::vec2(half, area.height()));
    let right_area = Rect::from_min_size(
        Pos2::new(area.left() + half + gap, area.top()),
        egui::vec2(half, area.height()),
    );
    for (side_area, side, name) in [
        (left_area, &pair.left, "Left image"),
        (right_area, &pair.right, "Right image"),
    ] {
        let mut child = ui.new_child(egui::UiBuilder::new().max_rect(side_area));
        child.vertical_centered(|ui| ui.strong(name));
        let image_area = Rect::from_min_max(
            Pos2::new(side_area.left(), side_area.top() + caption),
            side_area.max,
        );
        side_ui(&mut child, image_area, side);
    }
}

fn side_ui(ui: &mut egui::Ui, area: Rect, side: &SideView) {
    match side {
        Ok(texture) => paint_fitted(ui, area, texture),
        Err(error) => {
            let mut child = ui.new_child(egui::UiBuilder::new().max_rect(area));
            child.colored_label(theme::ERROR_TEXT, error);
        }
    }
}

fn paint_fitted(ui: &egui::Ui, area: Rect, texture: &TextureHandle) {
    let rect = fit_rect(area, texture.size_vec2());
    ui.painter().image(
        texture.id(),
        rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
}
