//! A labelled store with click data for the training-data export tests,
//! and what its export must contain, worked out from what was inserted
//! (not from the exporter).
//!
//! Products "Ceramic mug" (renders m1..m3, m4 without a prompt) and
//! "Running shoe" (s1, s2); creatives c1 (P9), c2 (P1), c3 (P9) from one
//! CSV click log. Exported labels, in order: alice m1>m2 (A), alice m3>m1
//! (B), bob s2>s1 (B), the model rm-v1 m2>m3 (A, p 0.7). Left out: a tie,
//! a label on creatives, a retracted label, a pair with m4 (no prompt) and
//! a pair across products.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use adstudio::cli::rm::import_click_file;
use adstudio::paths::DataDir;
use adstudio::prefs::instruction_for;
use adstudio::store::{
    ImageStore, NewPreference, NewProduct, NewRender, Outcome, PairItem, PreferenceSource,
    ProductId, ProductSettings, RenderId, Store,
};
use image::{DynamicImage, Rgba, RgbaImage};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// A render the test made.
#[derive(Debug, Clone)]
pub struct MadeRender {
    /// Row id.
    pub id: RenderId,
    /// Its product.
    pub product: ProductId,
    /// The product's title.
    pub title: String,
    /// The product image's hash.
    pub product_hash: String,
    /// The prompt written into its parameters.
    pub prompt: String,
    /// The seed.
    pub seed: u64,
    /// The image hash.
    pub hash: String,
}

/// The store and the rows its export must hold.
pub struct World {
    /// The data directory.
    pub data: PathBuf,
    /// Expected preference rows, in order, as JSON objects.
    pub pairs: Vec<Map<String, Value>>,
    /// Expected click rows, in order, as JSON objects.
    pub clicks: Vec<Map<String, Value>>,
}

/// The store and image store of a data directory.
pub fn open(data: &Path) -> (Store, ImageStore) {
    let dir = DataDir::at(data).unwrap();
    (
        Store::open(&dir.database_path()).unwrap(),
        ImageStore::new(dir.images_dir()),
    )
}

fn abs(path: PathBuf) -> String {
    std::path::absolute(path).unwrap().display().to_string()
}

fn product(store: &Store, images: &ImageStore, title: &str, colour: u8) -> (ProductId, String) {
    let img = RgbaImage::from_pixel(16, 16, Rgba([colour, 20, 20, 255]));
    let stored = images.put_png(&DynamicImage::ImageRgba8(img)).unwrap();
    let id = store
        .insert_product(&NewProduct {
            title: title.to_string(),
            source_name: format!("{title}.png"),
            image_hash: stored.hash.clone(),
            image_ext: "png".to_string(),
            width: 16,
            height: 16,
            has_transparency: false,
            settings: ProductSettings {
                mask_settings_json: json!({}),
                mask_edits_json: json!([]),
                canvas_settings_json: json!({}),
            },
        })
        .unwrap();
    (id, stored.hash)
}

fn render(
    store: &Store,
    images: &ImageStore,
    (product, product_hash, title): (ProductId, &str, &str),
    prompt: Option<&str>,
    seed: u64,
) -> MadeRender {
    let shade = (seed % 251) as u8;
    let img = RgbaImage::from_pixel(8, 8, Rgba([shade, 255 - shade, 90, 255]));
    let stored = images.put_png(&DynamicImage::ImageRgba8(img)).unwrap();
    let params = match prompt {
        Some(p) => json!({ "request": { "prompt": p, "steps": 4 } }),
        None => json!({ "steps": 4 }),
    };
    let id = store
        .insert_render(&NewRender {
            product_id: product,
            params_json: params,
            seed,
            model_ids_json: json!({ "checkpoint": "sd-test" }),
            image_hash: stored.hash.clone(),
            image_path: stored.path.display().to_string(),
            width: 8,
            height: 8,
        })
        .unwrap();
    MadeRender {
        id,
        product,
        title: title.to_string(),
        product_hash: product_hash.to_string(),
        prompt: prompt.unwrap_or_default().to_string(),
        seed,
        hash: stored.hash,
    }
}

/// A label as recorded: items, outcome, source, labeler, left_is_a, p.
type Label<'a> = (
    &'a MadeRender,
    &'a MadeRender,
    Outcome,
    PreferenceSource,
    &'a str,
    Option<bool>,
    Option<f64>,
);

fn record(store: &Store, label: &Label<'_>) -> i64 {
    let (a, b, outcome, source, labeler, left_is_a, model_p_a) = *label;
    store
        .record_preference(&NewPreference {
            a: PairItem::Render(a.id),
            b: PairItem::Render(b.id),
            left_is_a,
            outcome,
            source,
            labeler: labeler.to_string(),
            model_p_a,
        })
        .unwrap()
        .0
}

/// The preference row a decisive label must become.
fn expected_pair(store: &Store, images: &ImageStore, id: i64, label: &Label<'_>) -> Value {
    let (a, b, outcome, source, labeler, left_is_a, model_p_a) = *label;
    let (chosen, rejected) = if outcome == Outcome::A {
        (a, b)
    } else {
        (b, a)
    };
    let stored = store
        .preference(adstudio::store::PreferenceId(id))
        .unwrap()
        .unwrap();
    let image = |hash: &str| abs(images.path_for(hash, "png").unwrap());
    json!({
        "label_id": id,
        "product_id": chosen.product.0,
        "product_title": chosen.title,
        "product_image_hash": chosen.product_hash,
        "product_image": image(&chosen.product_hash),
        "prompt": instruction_for(&chosen.title),
        "chosen": chosen.prompt,
        "rejected": rejected.prompt,
        "chosen_render_id": chosen.id.0,
        "rejected_render_id": rejected.id.0,
        "chosen_image_hash": chosen.hash,
        "rejected_image_hash": rejected.hash,
        "chosen_image": image(&chosen.hash),
        "rejected_image": image(&rejected.hash),
        "chosen_seed": chosen.seed,
        "rejected_seed": rejected.seed,
        "labeler": labeler,
        "source": source.as_str(),
        "outcome": outcome.as_str(),
        "left_is_a": left_is_a,
        "model_p_a": model_p_a,
        "created_at": stored.created_at,
    })
}

/// Builds the labelled store described at the top in `data` and returns
/// the expected export rows.
pub fn world(data: &Path) -> World {
    let (store, images) = open(data);
    let (mug, mug_hash) = product(&store, &images, "Ceramic mug", 200);
    let (shoe, shoe_hash) = product(&store, &images, "Running shoe", 30);
    let mug_of = (mug, mug_hash.as_str(), "Ceramic mug");
    let shoe_of = (shoe, shoe_hash.as_str(), "Running shoe");
    let m1 = render(&store, &images, mug_of, Some("mug on oak, soft light"), 1);
    let m2 = render(
        &store,
        &images,
        mug_of,
        Some("mug by a window, \"rain\""),
        2,
    );
    // A seed above i64::MAX: the unsigned column must keep all 64 bits.
    let m3 = render(
        &store,
        &images,
        mug_of,
        Some("mug, marble café"),
        u64::MAX - 6,
    );
    let m4 = render(&store, &images, mug_of, None, 4);
    let s1 = render(&store, &images, shoe_of, Some("shoe on a track"), 11);
    let s2 = render(&store, &images, shoe_of, Some("shoe in the surf"), 12);
    use Outcome::{Tie, A, B};
    use PreferenceSource::{Human, Model};
    let exported: Vec<Label<'_>> = vec![
        (&m1, &m2, A, Human, "alice", Some(false), None),
        (&m1, &m3, B, Human, "alice", Some(true), None),
        (&s1, &s2, B, Human, "bob", Some(true), None),
        (&m2, &m3, A, Model, "rm-v1", None, Some(0.7)),
    ];
    let mut pairs = Vec::new();
    for (i, label) in exported.iter().enumerate() {
        let id = record(&store, label);
        pairs.push(expected_pair(&store, &images, id, label));
        if i == 1 {
            // Left out, between exported ones: a tie, a retracted label,
            // a pair with no prompt and a pair across products.
            record(&store, &(&m2, &m3, Tie, Human, "alice", Some(true), None));
            record(&store, &(&m1, &m2, A, Human, "dave", Some(true), None));
            store.retract_last_preference("dave").unwrap();
            record(&store, &(&m1, &m4, A, Human, "carol", Some(true), None));
            record(&store, &(&m1, &s1, B, Human, "carol", Some(true), None));
        }
    }
    let clicks = click_data(&store, &images, data);
    World {
        data: data.to_path_buf(),
        pairs: pairs.into_iter().map(into_map).collect(),
        clicks,
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Imports three creatives (and a label on two of them) and returns the
/// expected click rows, grouped by product key.
fn click_data(store: &Store, images: &ImageStore, data: &Path) -> Vec<Map<String, Value>> {
    let dir = data.join("clicklog");
    std::fs::create_dir_all(&dir).unwrap();
    let mut hashes = Vec::new();
    for (i, name) in ["c1.png", "c2.png", "c3.png"].iter().enumerate() {
        let path = dir.join(name);
        RgbaImage::from_pixel(6, 6, Rgba([40 * i as u8, 9, 200, 255]))
            .save(&path)
            .unwrap();
        hashes.push(hex::encode(Sha256::digest(std::fs::read(&path).unwrap())));
    }
    let csv = dir.join("clicks.csv");
    std::fs::write(
        &csv,
        "creative_id,product_id,image_path,impressions,clicks\n\
         c1,P9,c1.png,2000,40\nc2,P1,c2.png,1000,35\nc3,P9,c3.png,500,0\n",
    )
    .unwrap();
    import_click_file(store, images, &csv).unwrap();
    let import = &store.click_imports().unwrap()[0];
    let row_id = |creative: &str| store.creative(creative).unwrap().unwrap().id.0;
    store
        .record_preference(&NewPreference::human(
            PairItem::Creative(adstudio::store::CreativeRowId(row_id("c1"))),
            PairItem::Creative(adstudio::store::CreativeRowId(row_id("c3"))),
            Outcome::A,
            "alice",
        ))
        .unwrap();
    // Export order: product key, then import order: c2 (P1), c1, c3 (P9).
    [
        (1, "c2", "P1", 1000u64, 35u64, 3u64),
        (0, "c1", "P9", 2000, 40, 2),
        (2, "c3", "P9", 500, 0, 4),
    ]
    .into_iter()
    .map(|(i, creative, key, impressions, clicks, line)| {
        into_map(json!({
            "creative_row_id": row_id(creative),
            "creative_id": creative,
            "product_key": key,
            "image_hash": hashes[i],
            "image": abs(images.path_for(&hashes[i], "png").unwrap()),
            "source_path": dir.join(format!("{creative}.png")).display().to_string(),
            "impressions": impressions,
            "clicks": clicks,
            "ctr": clicks as f64 / impressions as f64,
            "import_id": import.id.0,
            "import_file": import.file,
            "imported_at": import.imported_at,
            "line": line,
        }))
    })
    .collect()
}
