//! The product being edited, as the UI holds it (runtime state only).

use std::sync::Arc;

use image::GrayImage;

use crate::product::{MaskSource, PreparedCanvas};
use crate::studio::OpenedProduct;

use super::output::{MaskViews, ShownMask};
use super::views::color_image;

/// Textures uploaded for the canvas view.
pub struct ViewTextures {
    /// The source image.
    pub source: egui::TextureHandle,
    /// The mask overlay, when a mask exists.
    pub overlay: Option<egui::TextureHandle>,
    /// The placed product.
    pub canvas: Option<egui::TextureHandle>,
    /// The inpaint mask.
    pub inpaint: Option<egui::TextureHandle>,
    /// The ControlNet image.
    pub control: Option<egui::TextureHandle>,
}

/// The current product with its settings, edits and latest mask.
pub struct ProductSession {
    /// The product: id, title (as edited), image, mask and canvas
    /// settings, brush edits.
    pub product: OpenedProduct,
    /// The latest refined mask, if it could be built.
    pub mask: Option<Arc<GrayImage>>,
    /// Where the base mask came from.
    pub mask_source: Option<MaskSource>,
    /// Why the mask could not be built, if it could not.
    pub mask_error: Option<String>,
    /// The placed product and its derived images.
    pub prepared: Option<Arc<PreparedCanvas>>,
    /// Uploaded textures.
    pub textures: ViewTextures,
    /// Generation of the newest mask request sent.
    pub requested_generation: u64,
    /// Generation of the mask shown.
    pub shown_generation: u64,
}

impl ProductSession {
    /// Builds a session from an opened product, uploading its source texture.
    pub fn new(ctx: &egui::Context, product: OpenedProduct) -> Self {
        let source = ctx.load_texture(
            format!("product-{}-source", product.id.0),
            color_image(&product.image.rgba),
            egui::TextureOptions::LINEAR,
        );
        Self {
            product,
            mask: None,
            mask_source: None,
            mask_error: None,
            prepared: None,
            textures: ViewTextures {
                source,
                overlay: None,
                canvas: None,
                inpaint: None,
                control: None,
            },
            requested_generation: 0,
            shown_generation: 0,
        }
    }

    /// Shows a mask result: keeps the mask and uploads its views.
    pub fn apply_mask(&mut self, ctx: &egui::Context, shown: ShownMask) {
        self.shown_generation = shown.build.generation;
        match (shown.build.result, shown.views) {
            (Ok(masked), Some(views)) => {
                self.upload_views(ctx, &views);
                self.mask = Some(masked.mask);
                self.mask_source = Some(masked.source);
                self.prepared = Some(masked.prepared);
                self.mask_error = None;
            }
            (result, _) => {
                self.mask = None;
                self.mask_source = None;
                self.prepared = None;
                self.textures.overlay = None;
                self.textures.canvas = None;
                self.textures.inpaint = None;
                self.textures.control = None;
                self.mask_error = Some(match result {
                    Err(error) => error,
                    Ok(_) => "the mask views are missing".into(),
                });
            }
        }
    }

    fn upload_views(&mut self, ctx: &egui::Context, views: &MaskViews) {
        let id = self.product.id.0;
        let upload = |what: &str, image: &image::RgbaImage, options| {
            Some(ctx.load_texture(format!("product-{id}-{what}"), color_image(image), options))
        };
        use egui::TextureOptions as T;
        self.textures.overlay = upload("overlay", &views.overlay, T::LINEAR);
        self.textures.canvas = upload("canvas", &views.canvas, T::LINEAR);
        self.textures.inpaint = upload("inpaint", &views.inpaint, T::NEAREST);
        self.textures.control = upload("control", &views.control, T::NEAREST);
    }
}
