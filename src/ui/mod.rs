//! The studio's window and panels. Each panel is a function
//! `*_ui(&mut Ui, ...)` that draws from the app's state (read-only) and
//! pushes [`crate::app::Command`]s; panels change no state and do no file,
//! database or model work. `ui` imports `app` and egui, never `store`,
//! `ml`, `jobs` or `studio`.

mod canvas_view;
mod gallery_view;
pub mod icon;
mod large_view;
mod product_panel;
mod render_panel;
mod scores_panel;
mod status_bar;
mod suggestions_panel;
pub mod theme;
mod tools_panel;
mod training_plot;
mod window;

pub use canvas_view::{canvas_view_ui, CanvasViewState};
pub use gallery_view::gallery_ui;
pub use large_view::large_view_ui;
pub use product_panel::product_panel_ui;
pub use render_panel::render_panel_ui;
pub use scores_panel::{scores_panel_ui, variant_name, GalleryScores, ScoresView};
pub use status_bar::status_bar_ui;
pub use suggestions_panel::suggestions_panel_ui;
pub use tools_panel::{tools_panel_ui, ToolsPanel};
pub use training_plot::training_window_ui;
pub use window::start;
