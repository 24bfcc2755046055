//! The studio's panels. Each panel is a function `*_ui(&mut Ui, ...)` that
//! draws from the app's state and pushes [`crate::app::Command`]s; panels do
//! no file, database or model work.

mod canvas_view;
pub mod icon;
mod product_panel;
mod status_bar;
pub mod theme;

pub use canvas_view::{canvas_view_ui, CanvasViewState};
pub use product_panel::product_panel_ui;
pub use status_bar::{status_bar_ui, StatusState};
