//! Building the final product mask from settings and brush edits.

use image::{GrayImage, RgbaImage};

use super::brush::{BrushMode, MaskEdits};
use super::error::ProductError;
use super::intake::ProductImage;
use super::mask::{
    alpha_mask, feather, grow_shrink, has_product, key_background, MaskSettings, MaskSource,
    MaskSourceChoice,
};

/// A finished product mask and where its base came from.
#[derive(Debug, Clone)]
pub struct BuiltMask {
    /// The mask, same size as the product image (255 = product).
    pub mask: GrayImage,
    /// Which source produced the base mask.
    pub source: MaskSource,
}

/// Resolves the user's choice: `Auto` means alpha when the image has
/// transparency and keying otherwise.
/// (With a salient-object model, [`base_mask_with`] falls back to it when
/// keying is refused.)
pub fn resolve_source(choice: MaskSourceChoice, has_transparency: bool) -> MaskSource {
    match choice {
        MaskSourceChoice::Alpha => MaskSource::Alpha,
        MaskSourceChoice::Key => MaskSource::Key,
        MaskSourceChoice::Saliency => MaskSource::Saliency,
        MaskSourceChoice::Auto if has_transparency => MaskSource::Alpha,
        MaskSourceChoice::Auto => MaskSource::Key,
    }
}

/// Finds the salient object (the product) in a photo: 255 = product.
///
/// Implemented by the U²-Net-p model in `crate::ml::saliency`; the product
/// module only knows this interface, so it stays free of ML code.
pub trait SalientObjectMasker {
    /// The product mask at the image's size.
    fn salient_mask(&self, rgba: &RgbaImage) -> Result<GrayImage, ProductError>;
}

/// Builds the product mask: base mask (alpha or key) -> grow/shrink ->
/// brush edits -> feather.
///
/// When keying finds no product the base mask is empty, so brush strokes
/// can still paint the product by hand; an empty final mask is
/// [`ProductError::NoProduct`]. A backdrop that cannot be keyed is
/// reported as [`ProductError::NoKeyableBackground`] unless the edits
/// paint product, in which case they start from an empty mask.
///
/// Interactive callers can cache [`base_mask`] (the slow step) and call
/// [`refine_base`] when only grow, feather or the edits change.
pub fn build_mask(
    img: &ProductImage,
    settings: &MaskSettings,
    edits: &MaskEdits,
) -> Result<BuiltMask, ProductError> {
    build_mask_with(img, settings, edits, None)
}

/// [`build_mask`] with an optional salient-object model: used when the
/// source is `Saliency`, and by `Auto` when keying is refused.
pub fn build_mask_with(
    img: &ProductImage,
    settings: &MaskSettings,
    edits: &MaskEdits,
    masker: Option<&dyn SalientObjectMasker>,
) -> Result<BuiltMask, ProductError> {
    let base = match base_mask_with(img, settings, masker) {
        Ok(base) => base,
        Err(ProductError::NoKeyableBackground { .. }) if paints_product(edits) => BuiltMask {
            mask: GrayImage::new(img.rgba.width(), img.rgba.height()),
            source: MaskSource::Key,
        },
        Err(other) => return Err(other),
    };
    refine_base(&base, settings, edits)
}

/// The base mask before grow, edits and feather: the alpha channel or the
/// keyed backdrop, per `settings.source`. Keying that finds no product
/// gives an empty mask (not an error) so the brush can still paint one.
pub fn base_mask(img: &ProductImage, settings: &MaskSettings) -> Result<BuiltMask, ProductError> {
    base_mask_with(img, settings, None)
}

/// [`base_mask`] with an optional salient-object model. `Auto` picks alpha
/// when the image has transparency, then keying when the border is a plain
/// backdrop, then the model; `Saliency` always uses the model.
pub fn base_mask_with(
    img: &ProductImage,
    settings: &MaskSettings,
    masker: Option<&dyn SalientObjectMasker>,
) -> Result<BuiltMask, ProductError> {
    let source = resolve_source(settings.source, img.has_transparency);
    let keyed = |img: &ProductImage| match key_background(&img.rgba, &settings.key) {
        Ok(mask) => Ok(mask),
        Err(ProductError::NoProduct) => Ok(GrayImage::new(img.rgba.width(), img.rgba.height())),
        Err(other) => Err(other),
    };
    let salient = |img: &ProductImage| match masker {
        Some(masker) => masker.salient_mask(&img.rgba),
        None => Err(ProductError::SaliencyUnavailable {
            detail: "this build or call has no salient-object model".into(),
        }),
    };
    let (mask, source) = match source {
        MaskSource::Alpha => (alpha_mask(&img.rgba), MaskSource::Alpha),
        MaskSource::Saliency => (salient(img)?, MaskSource::Saliency),
        MaskSource::Key => match keyed(img) {
            Ok(mask) => (mask, MaskSource::Key),
            Err(ProductError::NoKeyableBackground { .. })
                if settings.source == MaskSourceChoice::Auto && masker.is_some() =>
            {
                (salient(img)?, MaskSource::Saliency)
            }
            Err(other) => return Err(other),
        },
    };
    Ok(BuiltMask { mask, source })
}

/// Applies grow/shrink, the brush edits and feather to a base mask.
/// An empty result is [`ProductError::NoProduct`].
pub fn refine_base(
    base: &BuiltMask,
    settings: &MaskSettings,
    edits: &MaskEdits,
) -> Result<BuiltMask, ProductError> {
    let mut mask = grow_shrink(&base.mask, settings.grow_px);
    edits.apply_all(&mut mask);
    let mask = feather(&mask, settings.feather_px);
    if !has_product(&mask) {
        return Err(ProductError::NoProduct);
    }
    Ok(BuiltMask {
        mask,
        source: base.source,
    })
}

/// True when at least one stroke paints product.
fn paints_product(edits: &MaskEdits) -> bool {
    edits.strokes().iter().any(|s| s.mode == BrushMode::Product)
}
