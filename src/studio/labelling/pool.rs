//! What can be labelled: product groups and their items.
//!
//! A group is either the renders of one stored product or the imported
//! creatives that share a click-log product key; pairs are only ever made
//! inside a group (two ads of the same product). Every item carries what
//! blind labelling hides until the label is given ([`HiddenInfo`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use crate::store::{
    CreativeRow, ImageStore, PairItem, ProductId, ProductRow, RenderId, RenderRow, ScoreRow, Store,
};

use super::error::LabelError;

/// Identifies a product group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupKey {
    /// The renders of a stored product.
    Product(ProductId),
    /// The imported creatives with this click-log product key.
    Creatives(String),
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupKey::Product(id) => write!(f, "product {id}"),
            GroupKey::Creatives(key) => write!(f, "creatives of product key {key:?}"),
        }
    }
}

/// A reward-model score of a render, as stored by the studio's scoring
/// (see [`crate::studio::score::save_scores`]): the latest `scores` row of
/// the render.
#[derive(Debug, Clone, PartialEq)]
pub struct RmScore {
    /// The checkpoint that scored it; probabilities are only derived
    /// between two renders scored by the same model.
    pub model_id: String,
    /// The score: a Bradley-Terry log-strength (higher is better).
    pub score: f64,
    /// Predicted CTR, when the model gave one.
    pub ctr: Option<f64>,
    /// P(this render beats that one), per other render scored in the same
    /// run (`details_json.p_win`).
    pub p_win: BTreeMap<RenderId, f64>,
}

impl RmScore {
    /// The score of a `scores` row.
    pub fn from_row(row: &ScoreRow) -> RmScore {
        let p_win = row
            .details_json
            .get("p_win")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(id, p)| Some((RenderId(id.parse().ok()?), p.as_f64()?)))
                    .filter(|(_, p)| p.is_finite())
                    .collect()
            })
            .unwrap_or_default();
        RmScore {
            model_id: row.model_id.clone(),
            score: row.score,
            ctr: row.ctr,
            p_win,
        }
    }
}

/// What blind labelling hides until the label is given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HiddenInfo {
    /// The prompt the render was made from (renders only).
    pub prompt: Option<String>,
    /// The sampler seed (renders only).
    pub seed: Option<u64>,
    /// The latest reward-model score (renders only, when scored).
    pub rm: Option<RmScore>,
    /// The observed click-through rate, clicks / impressions (creatives).
    pub observed_ctr: Option<f64>,
    /// The click-log creative id (creatives).
    pub creative_id: Option<String>,
}

/// One labellable image.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelItem {
    /// The render or creative.
    pub item: PairItem,
    /// Its image file.
    pub image_path: PathBuf,
    /// Hidden until labelled.
    pub hidden: HiddenInfo,
}

impl LabelItem {
    /// The item of a `renders` row with its latest score, if any; its
    /// image is the recorded file, or (a render made on another machine)
    /// the image store's copy by hash ([`ImageStore::file_of`]); `None`
    /// when neither can be had (logged, the item left out).
    pub fn from_render(
        row: &RenderRow,
        latest_score: Option<&ScoreRow>,
        images: &ImageStore,
    ) -> Option<LabelItem> {
        let image_path = match images.file_of(&row.image_path, &row.image_hash) {
            Ok(path) => path,
            Err(e) => {
                log::warn!("labelling: render {} left out: {e}", row.id.0);
                return None;
            }
        };
        Some(LabelItem {
            item: PairItem::Render(row.id),
            image_path,
            hidden: HiddenInfo {
                prompt: prompt_of(&row.params_json),
                seed: Some(row.seed),
                rm: latest_score.map(RmScore::from_row),
                observed_ctr: None,
                creative_id: None,
            },
        })
    }

    /// The item of a `creatives` row (its image in `images`).
    pub fn from_creative(row: &CreativeRow, images: &ImageStore) -> Result<LabelItem, LabelError> {
        Ok(LabelItem {
            item: PairItem::Creative(row.id),
            image_path: images.local_path(&row.image_hash, &row.image_ext)?,
            hidden: HiddenInfo {
                observed_ctr: Some(row.ctr()),
                creative_id: Some(row.creative_id.clone()),
                ..HiddenInfo::default()
            },
        })
    }
}

/// The prompt in a render's `params_json`: the studio stores
/// `request.params.prompt` (see [`crate::render::PngParams`]); a plain
/// top-level `prompt` is accepted too.
fn prompt_of(params: &Value) -> Option<String> {
    params
        .pointer("/request/params/prompt")
        .or_else(|| params.get("prompt"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The items of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelGroup {
    /// Which group.
    pub key: GroupKey,
    /// What the labeler sees as its title: the product's title, or the
    /// product key of the creatives.
    pub title: String,
    /// Its items, oldest first.
    pub items: Vec<LabelItem>,
}

impl LabelGroup {
    /// Number of unordered pairs, n (n - 1) / 2.
    pub fn pair_count(&self) -> usize {
        let n = self.items.len();
        n * n.saturating_sub(1) / 2
    }
}

/// Everything that can be labelled: products (oldest first), then creative
/// groups (by product key).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelPool {
    /// The groups, in display order.
    pub groups: Vec<LabelGroup>,
}

impl LabelPool {
    /// Reads every product with its renders (and their latest scores) and
    /// every imported creative from the store. Images are not opened.
    pub fn load(store: &Store, images: &ImageStore) -> Result<LabelPool, LabelError> {
        let mut products = store.list_products()?;
        products.sort_by_key(|p| p.id);
        let mut groups = Vec::with_capacity(products.len());
        for product in &products {
            groups.push(product_group(store, images, product)?);
        }
        let mut creative_groups: BTreeMap<String, Vec<LabelItem>> = BTreeMap::new();
        for row in store.creatives()? {
            let item = LabelItem::from_creative(&row, images)?;
            creative_groups
                .entry(row.product_key)
                .or_default()
                .push(item);
        }
        groups.extend(creative_groups.into_iter().map(|(key, items)| LabelGroup {
            title: key.clone(),
            key: GroupKey::Creatives(key),
            items,
        }));
        Ok(LabelPool { groups })
    }

    /// The index of a group.
    pub fn group_index(&self, key: &GroupKey) -> Option<usize> {
        self.groups.iter().position(|g| &g.key == key)
    }

    /// The group and item of `item`, if it is in the pool.
    pub fn find(&self, item: PairItem) -> Option<(usize, &LabelItem)> {
        self.groups.iter().enumerate().find_map(|(g, group)| {
            group
                .items
                .iter()
                .find(|i| i.item == item)
                .map(|found| (g, found))
        })
    }

    /// Total number of pairs over all groups.
    pub fn pair_count(&self) -> usize {
        self.groups.iter().map(LabelGroup::pair_count).sum()
    }
}

/// A product's renders, oldest first, each with its latest score.
fn product_group(
    store: &Store,
    images: &ImageStore,
    product: &ProductRow,
) -> Result<LabelGroup, LabelError> {
    let mut renders = store.renders_for_product(product.id)?;
    renders.reverse();
    let mut items = Vec::with_capacity(renders.len());
    for render in &renders {
        let scores = store.scores_for_render(render.id)?;
        items.extend(LabelItem::from_render(render, scores.last(), images));
    }
    Ok(LabelGroup {
        key: GroupKey::Product(product.id),
        title: product.title.clone(),
        items,
    })
}
