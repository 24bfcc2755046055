//! Product preparation: everything between the designer's product photo
//! and the renderer.
//!
//! 1. [`intake`]: load a photo safely (file and pixel limits, the one rule
//!    for degenerate sizes, format from content, EXIF orientation) as
//!    8-bit RGBA.
//! 2. [`mask`], [`key`], [`brush`], [`refine`]: the product mask from the
//!    alpha channel or by keying a plain backdrop, grown/shrunk, touched up
//!    with the brush and feathered.
//! 3. [`canvas`], [`guides`]: place the product on an ad canvas (aspect
//!    presets), then derive the inpaint mask and the ControlNet canny image.
//! 4. [`composite`]: paste the original product back over the generated
//!    image so its pixels come back exactly.
//!
//! Everything here is pure image code; the only I/O is reading the photo.

pub mod aspect;
pub mod brush;
pub mod canvas;
pub mod composite;
pub mod error;
pub mod guides;
pub mod intake;
pub mod key;
pub mod layer;
pub mod mask;
pub mod refine;
mod resample;

pub use aspect::AspectPreset;
pub use brush::{BrushMode, BrushStroke, MaskEdits};
pub use canvas::{
    place_product, prepare_canvas, CanvasSettings, PlacedProduct, Placement, PreparedCanvas,
    MAX_SHORT_SIDE,
};
pub use composite::{composite, composite_layer};
pub use error::ProductError;
pub use guides::{control_image, inpaint_mask};
pub use intake::{
    check_image_size, load_product_bytes, load_product_file, ProductImage, SourceInfo, MAX_ASPECT,
    MAX_FILE_BYTES, MAX_PIXELS, MIN_SIDE,
};
pub use key::key_background;
pub use layer::{product_alpha, render_layer, LayerMap};
pub use mask::{
    alpha_mask, feather, grow_shrink, has_product, KeySettings, MaskSettings, MaskSource,
    MaskSourceChoice,
};
pub use refine::{
    base_mask, base_mask_with, build_mask, build_mask_with, refine_base, resolve_source, BuiltMask,
    SalientObjectMasker,
};
