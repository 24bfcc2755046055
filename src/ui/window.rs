//! The studio window: the eframe app that lays out the panels over the
//! app's state and hands the commands they push back to the app.

use crate::app::{CentralView, Command, StudioApp, StudioConfig};

use super::{
    canvas_view_ui, catalog_window_ui, export_dialog_ui, gallery_ui, label_view_ui, large_view_ui,
    model_manager_window_ui, online_window_ui, pref_stats_window_ui, product_panel_ui,
    status_bar_ui, theme, tools_panel_ui, training_window_ui, GalleryScores, LabelView, OnlineView,
    ScoresView, ToolsPanel,
};

/// Starts the studio in a window: applies the theme, then builds the app.
pub fn start(cc: &eframe::CreationContext<'_>, config: StudioConfig) -> anyhow::Result<StudioApp> {
    theme::apply(&cc.egui_ctx);
    StudioApp::new(cc, config)
}

impl eframe::App for StudioApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        StudioApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut commands = Vec::new();
        draw(ui, self, &mut commands);
        self.run_commands(commands);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs().save(storage);
    }
}

/// Draws every panel from `app`'s state; what the user asks for goes to
/// `commands`.
fn draw(ui: &mut egui::Ui, app: &StudioApp, commands: &mut Vec<Command>) {
    egui::Panel::bottom("status-bar").show(ui, |ui| {
        status_bar_ui(ui, app.status(), commands);
    });
    egui::Panel::top("top-bar").show(ui, |ui| top_bar_ui(ui, app, commands));
    pref_stats_window_ui(ui.ctx(), &app.labelling().stats, commands);
    model_manager_window_ui(
        ui.ctx(),
        app.model_manager(),
        (app.prefs().device, &app.prefs().store),
        commands,
    );
    let open_product = app.session().map(|s| &s.product);
    catalog_window_ui(
        ui.ctx(),
        app.catalog(),
        open_product.map(|p| p.id.0),
        commands,
    );
    export_dialog_ui(
        ui.ctx(),
        &app.catalog().export,
        open_product.map(|p| p.title.as_str()),
        commands,
    );
    if app.labelling().open {
        let view = LabelView {
            state: app.labelling(),
            labeler: &app.prefs().labeler,
            open_product: app.session().map(|s| s.product.title.as_str()),
            split: app.gallery().split,
        };
        egui::CentralPanel::default().show(ui, |ui| label_view_ui(ui, &view, commands));
        return;
    }
    studio_panels_ui(ui, app, commands);
}

/// The bar above everything: the labelling mode's button and the
/// preference statistics.
fn top_bar_ui(ui: &mut egui::Ui, app: &StudioApp, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let labelling = app.labelling().open;
        if ui
            .selectable_label(labelling, "Label")
            .on_hover_text("A-vs-B preference labelling (Ctrl+L; Esc leaves)")
            .clicked()
        {
            commands.push(Command::ShowLabelling(!labelling));
        }
        let stats = app.labelling().stats.open;
        if ui.selectable_label(stats, "Preference stats").clicked() {
            commands.push(Command::ShowPrefStats(!stats));
        }
        let catalog = app.catalog().open;
        if ui
            .selectable_label(catalog, "Catalog")
            .on_hover_text("Every product with its variants, best predicted CTR and labels")
            .clicked()
        {
            commands.push(Command::ShowCatalog(!catalog));
        }
        let export = app.catalog().export.open;
        if ui
            .selectable_label(export, "Export winners…")
            .on_hover_text("The best renders at ad-platform sizes, the product at full resolution")
            .clicked()
        {
            commands.push(Command::ShowExport(!export));
        }
        let models = app.model_manager().open;
        if ui
            .selectable_label(models, "Models…")
            .on_hover_text("Which models are installed; download them from the Hugging Face hub")
            .clicked()
        {
            commands.push(Command::ShowModelManager(!models));
        }
    });
}

/// The studio's panels around the canvas or gallery view.
fn studio_panels_ui(ui: &mut egui::Ui, app: &StudioApp, commands: &mut Vec<Command>) {
    egui::Panel::left("product-panel")
        .resizable(true)
        .default_size(320.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                product_panel_ui(ui, app.session(), app.products(), app.prefs(), commands);
            });
        });
    let product = app.session().map(|s| s.product.id);
    let scores = product.and_then(|p| app.scores().for_product(p));
    egui::Panel::right("tools-panel")
        .resizable(true)
        .default_size(300.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                tools_panel_ui(
                    ui,
                    &mut ToolsPanel {
                        render: &app.prefs().render,
                        blocker: app.render_blocker(),
                        draft_blocker: app.draft_blocker(),
                        diffusion: app.diffusion(),
                        suggest: app.suggestions(),
                        suggest_settings: &app.prefs().suggest,
                        has_product: product.is_some(),
                        adapters: app.adapters(),
                        active_adapter: app.prefs().prompt_adapter.as_deref(),
                        scores: ScoresView {
                            state: app.scores(),
                            scores,
                            variant_count: app.stored_variant_count(),
                            sort_by_score: app.prefs().sort_by_score,
                        },
                        commands,
                    },
                );
            });
        });
    egui::Panel::bottom("gallery")
        .resizable(true)
        .default_size(190.0)
        .show(ui, |ui| {
            let ranked = GalleryScores {
                scores,
                sort_by_score: app.prefs().sort_by_score,
            };
            gallery_ui(ui, app.gallery(), &ranked, commands);
        });
    egui::CentralPanel::default().show(ui, |ui| match app.gallery().central {
        CentralView::Canvas => canvas_view_ui(ui, app.session(), app.prefs(), commands),
        _ => large_view_ui(ui, app.gallery(), scores, commands),
    });
    training_window_ui(ui.ctx(), app.training(), &app.prefs().training, commands);
    let online = OnlineView {
        state: app.online(),
        prefs: &app.prefs().online,
        open_product: app.session().map(|s| s.product.title.as_str()),
        stored_products: app.products().len(),
        start_adapter: app.prefs().prompt_adapter.as_deref(),
    };
    online_window_ui(ui.ctx(), &online, commands);
}
