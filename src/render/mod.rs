//! Rendering product ads: the diffusion engine applied to a prepared canvas.
//!
//! - [`request`]: what a render asks for ([`RenderRequest`]), serialisable so
//!   a stored row or a PNG can reproduce it;
//! - [`run`]: the pure render function ([`render_variants`]): variant `i`
//!   uses seed `seed + i`, the product pixels are pasted back exactly;
//! - [`png_meta`]: PNG files with an AUTOMATIC1111-style `parameters` chunk
//!   and an `adstudio` JSON chunk, and the reader that recovers them.
//!
//! Pure: no store, no jobs (saving a render is the studio core's job).

pub mod error;
pub mod png_meta;
pub mod request;
pub mod run;

pub use error::RenderError;
pub use png_meta::{a1111_parameters, encode_png, read_png_params, PngParams};
pub use request::{
    parse_scheduler, ModelIds, RenderParams, RenderRequest, DRAFT_STEPS, SCHEDULER_NAMES,
};
pub use run::{
    render_variant, render_variants, RenderModels, RenderProgress, RenderedVariant, PREVIEW_EVERY,
};
