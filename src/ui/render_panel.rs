//! The Render section of the tools panel: prompt, negative prompt, seed,
//! steps, CFG, ControlNet scale, scheduler, number of variants; the Render
//! and Draft buttons and which models they use.

use crate::app::{Command, DiffusionAvailability, RenderParams, SCHEDULER_NAMES};

use super::theme;

/// Why the buttons are disabled (`None`: enabled).
#[derive(Debug, Clone, Copy, Default)]
pub struct Blockers<'a> {
    /// Why rendering is not possible now.
    pub render: Option<&'a str>,
    /// Why a draft is not possible now.
    pub draft: Option<&'a str>,
}

/// Draws the render parameters and the Render and Draft buttons
/// (disabled, with the reason, when `blockers` says so).
pub fn render_panel_ui(
    ui: &mut egui::Ui,
    params: &RenderParams,
    blockers: Blockers<'_>,
    diffusion: &DiffusionAvailability,
    commands: &mut Vec<Command>,
) {
    let mut edited = params.clone();
    params_ui(ui, &mut edited);
    if edited != *params {
        commands.push(Command::SetRenderParams(edited));
    }
    render_button_ui(ui, params.n_variants, blockers, diffusion, commands);
}

fn params_ui(ui: &mut egui::Ui, prefs: &mut RenderParams) {
    let label = ui.label("Prompt");
    ui.add(
        egui::TextEdit::multiline(&mut prefs.prompt)
            .desired_rows(3)
            .desired_width(f32::INFINITY)
            .hint_text("e.g. on a marble table, soft morning light"),
    )
    .labelled_by(label.id);
    let label = ui.label("Negative prompt");
    ui.add(
        egui::TextEdit::multiline(&mut prefs.negative_prompt)
            .desired_rows(2)
            .desired_width(f32::INFINITY)
            .hint_text("what to avoid"),
    )
    .labelled_by(label.id);
    egui::Grid::new("render-params")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let label = ui.label("Seed");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut prefs.seed).speed(1.0))
                    .labelled_by(label.id)
                    .on_hover_text("Variant i of a batch uses seed + i");
                if ui
                    .button("Random")
                    .on_hover_text("A new random seed")
                    .clicked()
                {
                    prefs.seed = u64::from(rand::random::<u32>());
                }
            });
            ui.end_row();
            let label = ui.label("Steps");
            ui.add(egui::DragValue::new(&mut prefs.steps).range(1..=150))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("CFG");
            ui.add(
                egui::DragValue::new(&mut prefs.guidance_scale)
                    .range(1.0..=20.0)
                    .speed(0.1),
            )
            .labelled_by(label.id)
            .on_hover_text("Classifier-free guidance scale");
            ui.end_row();
            let label = ui.label("ControlNet");
            ui.add(
                egui::DragValue::new(&mut prefs.conditioning_scale)
                    .range(0.0..=2.0)
                    .speed(0.05),
            )
            .labelled_by(label.id)
            .on_hover_text("How strongly the product's edges steer the background");
            ui.end_row();
            let label = ui.label("Scheduler");
            egui::ComboBox::from_id_salt("render-scheduler")
                .selected_text(prefs.scheduler.label())
                .show_ui(ui, |ui| {
                    for (_, kind) in SCHEDULER_NAMES {
                        ui.selectable_value(&mut prefs.scheduler, kind, kind.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Variants");
            ui.add(egui::DragValue::new(&mut prefs.n_variants).range(1..=16))
                .labelled_by(label.id);
            ui.end_row();
        });
}

fn render_button_ui(
    ui: &mut egui::Ui,
    n_variants: usize,
    blockers: Blockers<'_>,
    diffusion: &DiffusionAvailability,
    commands: &mut Vec<Command>,
) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let render = ui.add_enabled(
            blockers.render.is_none(),
            egui::Button::new(render_label(n_variants)).min_size(egui::vec2(120.0, 28.0)),
        );
        if render.on_hover_text("Ctrl+Enter").clicked() {
            commands.push(Command::Render);
        }
        let draft = ui.add_enabled(
            blockers.draft.is_none(),
            egui::Button::new("Draft").min_size(egui::vec2(60.0, 28.0)),
        );
        let hover = blockers.draft.unwrap_or(
            "One quick draft: same prompt and seed, 4 LCM steps, no CFG; \
             then Render final on it",
        );
        if draft
            .on_hover_text(hover)
            .on_disabled_hover_text(hover)
            .clicked()
        {
            commands.push(Command::Draft);
        }
    });
    let blocker = blockers.render;
    if let Some(reason) = blocker {
        let color = if matches!(diffusion, DiffusionAvailability::Missing { .. }) {
            theme::ERROR_TEXT
        } else {
            theme::HINT_TEXT
        };
        ui.colored_label(color, reason);
        if matches!(diffusion, DiffusionAvailability::Missing { .. }) {
            ui.horizontal(|ui| {
                if ui
                    .button("Get Stable Diffusion…")
                    .on_hover_text("Open the model manager with the sd15 model picked")
                    .clicked()
                {
                    commands.push(Command::OfferFetch(crate::app::ModelRole::Sd15));
                }
                if ui.button("Rescan models").clicked() {
                    commands.push(Command::RescanModels);
                }
            });
        }
    } else if let DiffusionAvailability::Ready {
        checkpoint,
        controlnet,
        taesd,
        ..
    } = diffusion
    {
        let text = match controlnet {
            Some(cn) => format!("Models: {checkpoint} + {cn}"),
            None => format!("Models: {checkpoint} (no ControlNet found)"),
        };
        ui.colored_label(theme::HINT_TEXT, text);
        ui.colored_label(theme::HINT_TEXT, previews_text(taesd.as_deref()));
    }
}

/// Which previews renders show: TAESD's, or the latent approximation
/// when no TAESD model is installed.
pub fn previews_text(taesd: Option<&str>) -> String {
    match taesd {
        Some(name) => format!("Previews: {name} (TAESD)"),
        None => "Previews: latent approximation (no TAESD model found; role taesd)".into(),
    }
}

/// The Render button's text, e.g. "Render 4 variants".
pub fn render_label(n_variants: usize) -> String {
    if n_variants == 1 {
        "Render 1 variant".into()
    } else {
        format!("Render {n_variants} variants")
    }
}
