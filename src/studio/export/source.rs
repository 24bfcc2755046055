//! What an export reads from the store for one product: the original
//! photo, the mask each render was placed with, the render's canvas and
//! pixels.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, RgbImage};

use crate::product::{
    build_mask_with, load_product_bytes, CanvasSettings, MaskEdits, MaskSettings, ProductImage,
};
use crate::store::{ProductRow, RenderRow};

use super::super::Studio;
use super::error::ExportError;

/// Where a render's mask came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskOrigin {
    /// The mask recorded with the render (exact).
    Recorded,
    /// Rebuilt from the product's current settings (the render predates
    /// recorded masks).
    CurrentSettings,
}

/// One product's original photo and the masks read so far.
pub struct ProductSource {
    /// Its store row.
    pub row: ProductRow,
    /// The original photo.
    pub image: ProductImage,
    masks: HashMap<String, Arc<GrayImage>>,
    current: Option<Arc<GrayImage>>,
}

impl ProductSource {
    /// Reads the product's original photo from the image store.
    pub fn load(studio: &Studio, row: ProductRow) -> Result<Self, ExportError> {
        let bytes = studio.images.read(&row.image_hash, &row.image_ext)?;
        let image = load_product_bytes(&bytes)?;
        Ok(Self {
            row,
            image,
            masks: HashMap::new(),
            current: None,
        })
    }

    /// The mask `render` was placed with (the recorded one, else the
    /// product's current mask), or the current mask for no render.
    pub fn mask_for(
        &mut self,
        studio: &Studio,
        render: Option<&RenderRow>,
    ) -> Result<(Arc<GrayImage>, MaskOrigin), ExportError> {
        let recorded = match render {
            Some(r) => studio.store.render_mask(r.id)?,
            None => None,
        };
        match recorded {
            Some(hash) => Ok((self.recorded_mask(studio, &hash)?, MaskOrigin::Recorded)),
            None => Ok((self.current_mask(studio)?, MaskOrigin::CurrentSettings)),
        }
    }

    fn recorded_mask(
        &mut self,
        studio: &Studio,
        hash: &str,
    ) -> Result<Arc<GrayImage>, ExportError> {
        if let Some(mask) = self.masks.get(hash) {
            return Ok(Arc::clone(mask));
        }
        let bytes = studio.images.read(hash, "png")?;
        let mask = image::load_from_memory(&bytes)
            .map_err(|source| ExportError::Decode {
                what: format!("the recorded mask {hash}"),
                source,
            })?
            .to_luma8();
        let mask = Arc::new(mask);
        self.masks.insert(hash.to_string(), Arc::clone(&mask));
        Ok(mask)
    }

    fn current_mask(&mut self, studio: &Studio) -> Result<Arc<GrayImage>, ExportError> {
        if let Some(mask) = &self.current {
            return Ok(Arc::clone(mask));
        }
        let settings: MaskSettings =
            serde_json::from_value(self.row.settings.mask_settings_json.clone())
                .unwrap_or_default();
        let edits: MaskEdits =
            serde_json::from_value(self.row.settings.mask_edits_json.clone()).unwrap_or_default();
        let saliency = studio.models.saliency();
        let built = build_mask_with(&self.image, &settings, &edits, Some(&saliency))?;
        let mask = Arc::new(built.mask);
        self.current = Some(Arc::clone(&mask));
        Ok(mask)
    }

    /// The canvas settings `render` was made with: the recorded ones, else
    /// the product's current ones when their size matches the render.
    pub fn canvas_for(&self, render: &RenderRow) -> Result<CanvasSettings, ExportError> {
        let recorded = render
            .params_json
            .pointer("/request/canvas")
            .and_then(|c| serde_json::from_value::<CanvasSettings>(c.clone()).ok());
        let current = serde_json::from_value::<CanvasSettings>(
            self.row.settings.canvas_settings_json.clone(),
        )
        .unwrap_or_default();
        let canvas = recorded.unwrap_or(current);
        if canvas.canvas_size() != (render.width, render.height) {
            return Err(ExportError::BadRender {
                render: render.id.0,
                reason: format!(
                    "its canvas settings give {}x{} but the image is {}x{}",
                    canvas.canvas_size().0,
                    canvas.canvas_size().1,
                    render.width,
                    render.height
                ),
            });
        }
        Ok(canvas)
    }
}

/// The render's pixels, from its file (or the image store by hash).
pub fn read_render(studio: &Studio, render: &RenderRow) -> Result<RgbImage, ExportError> {
    let decoded = match image::open(Path::new(&render.image_path)) {
        Ok(img) => img,
        Err(_) => {
            let bytes = studio.images.read(&render.image_hash, "png")?;
            image::load_from_memory(&bytes).map_err(|source| ExportError::Decode {
                what: format!("render {}", render.id.0),
                source,
            })?
        }
    };
    Ok(decoded.to_rgb8())
}
