//! Product kinds by marketplace category: short names of the things each
//! category sells, used to guess a title's category by its nearest kinds
//! (see [`guess_category_by_kinds`](super::matching::guess_category_by_kinds)).
//!
//! A category described by six words is a poor target for a sentence
//! encoder: "Adjustable Dumbbells Pair" is closer to a watch shop than to
//! "fitness, yoga, hiking". Its nearest product kind ("dumbbells") is not.
//! The lists were written from what marketplaces file under each category,
//! as a shopper would name the things (no brands).
//!
//! Measured (candle all-MiniLM-L6-v2, titles embedded as
//! [`guess_text`](super::matching::guess_text), score = mean cosine of the
//! two nearest kinds): 24 of 26 tune and 17 of 17 holdout titles of
//! `tests/fixtures/titles/titles.tsv` and 24 of 24 of `fresh.tsv` guessed
//! right, against 25, 13 and 15 with the one-line category texts
//! ([`Category::text`](super::matching::Category::text)). The nearest kind
//! alone scored 24, 17 and 23; adding half the category-text cosine 24, 17
//! and 23. The two tune misses are near ties a designer would accept
//! (running shoes as sports, a coffee dripper as drinks).

/// How many of a category's nearest kinds its score averages.
pub const NEAREST_KINDS: usize = 2;

use crate::ml::relevance::cosine;

/// The product kinds of each [`CATEGORIES`](super::matching::CATEGORIES)
/// entry, by category name, in the same order.
pub const KINDS: [(&str, &[&str]); 16] = [
    (
        "personal care",
        &[
            "shampoo",
            "conditioner",
            "body wash",
            "shower gel",
            "bar soap",
            "hand cream",
            "body lotion",
            "face moisturiser",
            "face serum",
            "facial cleanser",
            "toothpaste",
            "toothbrush",
            "electric toothbrush",
            "dental floss",
            "mouthwash",
            "deodorant",
            "razor",
            "shaving cream",
            "beard oil",
            "hair oil",
            "hair mask",
            "sunscreen",
            "lip balm",
            "bath salts",
            "sheet face mask",
            "hair brush",
            "nail clippers",
            "face massage roller",
            "cotton pads",
            "hair dryer",
        ],
    ),
    (
        "beauty",
        &[
            "lipstick",
            "foundation",
            "mascara",
            "eyeliner",
            "eyeshadow palette",
            "blush",
            "concealer",
            "perfume",
            "eau de parfum",
            "nail polish",
            "makeup brushes",
            "face powder",
            "false eyelashes",
            "highlighter makeup",
            "makeup sponge",
            "makeup bag",
            "lip gloss",
            "brow pencil",
        ],
    ),
    (
        "food",
        &[
            "chocolate",
            "honey",
            "granola",
            "breakfast cereal",
            "instant noodles",
            "pasta",
            "rice",
            "olive oil",
            "cooking oil",
            "soy sauce",
            "chili sauce",
            "spices",
            "jam",
            "peanut butter",
            "cookies",
            "crackers",
            "mixed nuts",
            "dried fruit",
            "protein bar",
            "loose leaf tea",
            "matcha powder",
            "milk powder",
            "snacks",
            "candy",
            "flour",
            "baking mix",
            "coffee beans",
        ],
    ),
    (
        "drinks",
        &[
            "whisky",
            "wine",
            "beer",
            "gin",
            "vodka",
            "sake",
            "rum",
            "coffee",
            "cold brew coffee",
            "iced tea",
            "fruit juice",
            "sparkling water",
            "mineral water",
            "soda",
            "energy drink",
            "kombucha",
            "sports drink",
            "electrolyte drink",
            "cocktail syrup",
            "milk tea",
            "coconut water",
        ],
    ),
    (
        "furniture",
        &[
            "sofa",
            "armchair",
            "dining table",
            "coffee table",
            "side table",
            "desk",
            "office chair",
            "bookshelf",
            "cabinet",
            "sideboard",
            "wardrobe",
            "chest of drawers",
            "bed frame",
            "nightstand",
            "tv stand",
            "shoe rack",
            "storage bench",
            "bar stool",
            "dining chair",
            "console table",
            "ottoman",
            "folding table",
        ],
    ),
    (
        "home & kitchen",
        &[
            "frying pan",
            "saucepan",
            "cookware set",
            "knife set",
            "cutting board",
            "food storage containers",
            "dish drying rack",
            "electric kettle",
            "coffee maker",
            "pour over coffee dripper",
            "french press",
            "teapot",
            "blender",
            "toaster",
            "bath towels",
            "bed sheets",
            "duvet cover",
            "pillow",
            "throw blanket",
            "curtains",
            "scented candle",
            "vase",
            "wall clock",
            "laundry basket",
            "trash can",
            "mugs",
            "dinnerware set",
            "vacuum cleaner",
            "storage boxes",
            "doormat",
            "bath mat",
            "kitchen utensils",
            "baking tray",
        ],
    ),
    (
        "toys",
        &[
            "plush toy",
            "teddy bear",
            "building blocks",
            "jigsaw puzzle",
            "board game",
            "remote control car",
            "doll",
            "dollhouse",
            "action figure",
            "toy kitchen",
            "pretend play set",
            "toy train",
            "kite",
            "water gun",
            "slime",
            "stuffed animal",
            "card game",
            "wooden toys",
            "educational toys",
            "model kit",
            "toy blocks",
        ],
    ),
    (
        "baby",
        &[
            "diapers",
            "baby wipes",
            "baby bottle",
            "pacifier",
            "stroller",
            "baby carrier",
            "crib",
            "baby monitor",
            "teether",
            "baby blanket",
            "bib",
            "baby bath tub",
            "high chair",
            "baby clothes",
            "swaddle",
            "nursing pillow",
            "baby lotion",
        ],
    ),
    (
        "electronics",
        &[
            "headphones",
            "wireless earbuds",
            "bluetooth speaker",
            "smart watch",
            "phone case",
            "phone charger",
            "usb c cable",
            "power bank",
            "laptop",
            "tablet",
            "keyboard",
            "computer mouse",
            "webcam",
            "camera",
            "monitor",
            "wifi router",
            "hdmi cable",
            "game controller",
            "smart plug",
            "led strip lights",
            "projector",
            "microphone",
            "presentation remote",
        ],
    ),
    (
        "fashion",
        &[
            "t-shirt",
            "dress",
            "jeans",
            "trousers",
            "jacket",
            "coat",
            "hoodie",
            "sweater",
            "skirt",
            "shirt",
            "sneakers",
            "boots",
            "sandals",
            "handbag",
            "backpack",
            "wallet",
            "belt",
            "scarf",
            "hat",
            "baseball cap",
            "sunglasses",
            "socks",
            "swimsuit",
            "pyjamas",
        ],
    ),
    (
        "jewelry",
        &[
            "necklace",
            "ring",
            "earrings",
            "bracelet",
            "pendant",
            "anklet",
            "brooch",
            "charm bracelet",
            "engagement ring",
            "stud earrings",
            "gold chain",
            "cufflinks",
            "wristwatch",
        ],
    ),
    (
        "sports & outdoors",
        &[
            "yoga mat",
            "dumbbells",
            "kettlebell",
            "resistance bands",
            "treadmill",
            "exercise bike",
            "tent",
            "sleeping bag",
            "hiking backpack",
            "trekking poles",
            "camping stove",
            "sports water bottle",
            "bicycle",
            "bike helmet",
            "football",
            "basketball",
            "tennis racket",
            "fishing rod",
            "swimming goggles",
            "jump rope",
            "foam roller",
            "gym gloves",
            "running shoes",
        ],
    ),
    (
        "pet supplies",
        &[
            "dog food",
            "cat food",
            "dog bed",
            "cat bed",
            "cat tree",
            "scratching post",
            "litter box",
            "cat litter",
            "dog leash",
            "dog collar",
            "dog harness",
            "pet bowl",
            "dog toy",
            "cat toy",
            "chew toy",
            "aquarium",
            "bird cage",
            "pet carrier",
            "pet grooming brush",
            "dog shampoo",
            "pet treats",
        ],
    ),
    (
        "books & stationery",
        &[
            "notebook",
            "journal",
            "planner",
            "pens",
            "pencils",
            "markers",
            "highlighter pens",
            "sketchbook",
            "watercolour paints",
            "paint brushes",
            "novel",
            "cookbook",
            "children's book",
            "sticky notes",
            "desk organiser",
            "stapler",
            "calligraphy set",
            "washi tape",
            "fountain pen",
            "colouring book",
        ],
    ),
    (
        "automotive",
        &[
            "car phone holder",
            "dash cam",
            "car seat cover",
            "car floor mats",
            "car wax",
            "car vacuum",
            "tyre inflator",
            "jump starter",
            "motorcycle helmet",
            "car air freshener",
            "wiper blades",
            "steering wheel cover",
            "car charger",
            "socket set",
            "tool kit",
        ],
    ),
    (
        "garden",
        &[
            "plant pot",
            "planter",
            "seeds",
            "raised garden bed",
            "garden hose",
            "watering can",
            "pruning shears",
            "lawn mower",
            "garden gloves",
            "solar garden lights",
            "bird feeder",
            "compost bin",
            "fertiliser",
            "artificial plants",
            "greenhouse",
            "trellis",
            "garden tools",
        ],
    ),
];

/// Every kind phrase with the index of its category in [`KINDS`] (and
/// [`CATEGORIES`](super::matching::CATEGORIES)), in [`KINDS`] order.
pub fn kind_phrases() -> Vec<(usize, &'static str)> {
    KINDS
        .iter()
        .enumerate()
        .flat_map(|(c, (_, kinds))| kinds.iter().map(move |k| (c, *k)))
        .collect()
}

/// Each category's score for a title: the mean cosine of the title's
/// [`NEAREST_KINDS`] nearest kinds of that category. `kind_embeddings`
/// are those of [`kind_phrases`], in order; a category without kinds
/// scores minus infinity.
pub fn category_scores(title: &[f32], kind_embeddings: &[Vec<f32>]) -> Vec<f32> {
    let mut by_category: Vec<Vec<f32>> = vec![Vec::new(); KINDS.len()];
    for ((c, _), e) in kind_phrases().iter().zip(kind_embeddings) {
        by_category[*c].push(cosine(title, e));
    }
    by_category
        .into_iter()
        .map(|mut cosines| {
            cosines.sort_by(|a, b| b.total_cmp(a));
            let top = &cosines[..cosines.len().min(NEAREST_KINDS)];
            if top.is_empty() {
                f32::NEG_INFINITY
            } else {
                top.iter().sum::<f32>() / top.len() as f32
            }
        })
        .collect()
}

/// The index of the best score (the first on ties; 0 when empty).
pub fn best_category(scores: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &s) in scores.iter().enumerate() {
        if s > best.1 {
            best = (i, s);
        }
    }
    best.0
}

/// The category scores of `title_text` (e.g. [`guess_text`](super::matching::guess_text)
/// of a title), embedding it and every kind with `embed` in one call
/// (the kinds first, the title last). No scores when `embed` returns no
/// embeddings.
pub fn guess_scores<E>(
    title_text: &str,
    embed: impl FnOnce(&[&str]) -> Result<Vec<Vec<f32>>, E>,
) -> Result<Vec<f32>, E> {
    let mut texts: Vec<&str> = kind_phrases().into_iter().map(|(_, k)| k).collect();
    texts.push(title_text);
    let embeddings = embed(&texts)?;
    Ok(match embeddings.split_last() {
        Some((title, kinds)) => category_scores(title, kinds),
        None => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::prompt_model::matching::CATEGORIES;

    #[test]
    fn kinds_follow_the_categories_and_are_distinct() {
        for ((name, kinds), category) in KINDS.iter().zip(CATEGORIES.iter()) {
            assert_eq!(*name, category.name);
            assert!(kinds.len() >= 10, "{name}");
        }
        let mut all: Vec<&str> = kind_phrases().into_iter().map(|(_, k)| k).collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a kind is listed twice");
    }

    #[test]
    fn a_category_scores_the_mean_of_its_two_nearest_kinds() {
        let phrases = kind_phrases();
        // Kind embeddings: 1-D "directions" so cosines are +1 or -1,
        // except three of the first category's kinds, set explicitly.
        let mut emb: Vec<Vec<f32>> = phrases.iter().map(|_| vec![-1.0, 0.0]).collect();
        emb[0] = vec![1.0, 0.0];
        emb[1] = vec![0.0, 1.0];
        emb[2] = vec![1.0, 1.0];
        let scores = category_scores(&[1.0, 0.0], &emb);
        assert_eq!(scores.len(), KINDS.len());
        let expected = (1.0 + std::f32::consts::FRAC_1_SQRT_2) / 2.0;
        assert!((scores[0] - expected).abs() < 1e-6, "{}", scores[0]);
        assert!(scores[1..].iter().all(|&s| (s + 1.0).abs() < 1e-6));
        assert_eq!(best_category(&scores), 0);
        assert_eq!(best_category(&[0.1, 0.3, 0.3]), 1);
        assert_eq!(best_category(&[]), 0);
    }

    #[test]
    fn guess_scores_embeds_kinds_then_the_title() {
        let n = kind_phrases().len();
        let scores = guess_scores("dog bed", |texts: &[&str]| {
            assert_eq!(texts.len(), n + 1);
            assert_eq!(texts[n], "dog bed");
            Ok::<_, ()>(
                texts
                    .iter()
                    .map(|t| vec![if *t == "dog bed" { 1.0 } else { 0.1 }, 1.0])
                    .collect(),
            )
        })
        .expect("scores");
        let pets = KINDS.iter().position(|(n, _)| *n == "pet supplies");
        assert_eq!(Some(best_category(&scores)), pets);
    }
}
