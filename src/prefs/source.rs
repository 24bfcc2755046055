//! Reading the statistics' input from the store.

use std::collections::HashMap;

use super::error::PrefsError;
use super::input::{ProductRef, StatsInput};
use crate::store::{CreativeRowId, PairItem, PreferenceId, ProductId, Store};

/// Reads the active labels, the number of retracted ones, the product of
/// every labelled item and the reward-model scores of every labelled
/// render. Fails with [`PrefsError::MissingItem`] when a label names a
/// render or creative that is not in the store.
pub fn load_stats_input(store: &Store) -> Result<StatsInput, PrefsError> {
    let labels = store.active_preferences()?;
    let all = store.preferences()?.len() as u64;
    let mut input = StatsInput {
        retracted: all.saturating_sub(labels.len() as u64),
        ..StatsInput::default()
    };
    let creatives: HashMap<CreativeRowId, String> = store
        .creatives()?
        .into_iter()
        .map(|c| (c.id, c.product_key))
        .collect();
    let mut titles: HashMap<ProductId, String> = HashMap::new();
    for label in &labels {
        for item in [label.a, label.b] {
            if input.products.contains_key(&item) {
                continue;
            }
            let product = match item {
                PairItem::Render(id) => {
                    let render = store
                        .render(id)?
                        .ok_or_else(|| PrefsError::missing(item, label.id))?;
                    // Oldest first: a later score of the same model overwrites.
                    for score in store.scores_for_render(id)? {
                        input.scores.insert((id, score.model_id), score.score);
                    }
                    product_ref(store, &mut titles, render.product_id, item, label.id)?
                }
                PairItem::Creative(id) => ProductRef::Creatives {
                    key: creatives
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| PrefsError::missing(item, label.id))?,
                },
            };
            input.products.insert(item, product);
        }
    }
    input.labels = labels;
    Ok(input)
}

fn product_ref(
    store: &Store,
    titles: &mut HashMap<ProductId, String>,
    id: ProductId,
    item: PairItem,
    label: PreferenceId,
) -> Result<ProductRef, PrefsError> {
    let title = match titles.get(&id) {
        Some(title) => title.clone(),
        None => {
            let product = store
                .product(id)?
                .ok_or_else(|| PrefsError::missing(item, label))?;
            titles.insert(id, product.title.clone());
            product.title
        }
    };
    Ok(ProductRef::Product { id, title })
}
