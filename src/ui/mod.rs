//! The studio's window and panels. Each panel is a function
//! `*_ui(&mut Ui, ...)` that draws from the app's state (read-only) and
//! pushes [`crate::app::Command`]s; panels change no state and do no file,
//! database or model work. `ui` imports `app` and egui, never `store`,
//! `ml`, `jobs` or `studio`.

mod adapters_section;
mod canvas_view;
mod catalog_window;
mod export_dialog;
mod gallery_view;
pub mod icon;
mod label_reveal;
mod label_view;
mod large_view;
mod model_manager_window;
mod online_window;
mod pref_stats_window;
mod product_panel;
mod queue_window;
mod render_panel;
mod scores_panel;
mod split_view;
mod status_bar;
mod suggestions_panel;
pub mod theme;
mod tools_panel;
mod training_plot;
mod window;

pub use canvas_view::{canvas_view_ui, CanvasViewState};
pub use catalog_window::catalog_window_ui;
pub use export_dialog::export_dialog_ui;
pub use gallery_view::gallery_ui;
pub use label_reveal::{answer_text, hidden_text, reveal_ui};
pub use label_view::{label_view_ui, LabelView, EMPTY_POOL_HINT};
pub use large_view::large_view_ui;
pub use model_manager_window::model_manager_window_ui;
pub use online_window::{online_window_ui, OnlineView};
pub use pref_stats_window::{accuracy_text, kappa_text, pref_stats_window_ui};
pub use product_panel::product_panel_ui;
pub use queue_window::queue_window_ui;
pub use render_panel::render_panel_ui;
pub use scores_panel::{scores_panel_ui, variant_name, GalleryScores, ScoresView};
pub use split_view::split_images_ui;
pub use status_bar::status_bar_ui;
pub use suggestions_panel::suggestions_panel_ui;
pub use tools_panel::{tools_panel_ui, ToolsPanel};
pub use training_plot::training_window_ui;
pub use window::start;
