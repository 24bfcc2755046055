//! `adstudio rm synth`: writes a synthetic click-log world (ad images and a
//! CSV click log, plus the hidden truth) so there is data to import.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::ml::reward::synthetic::{SyntheticWorld, WorldConfig};

/// Size of the world to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Output directory (created).
    pub out: PathBuf,
    /// Number of products.
    pub products: usize,
    /// Creatives per product.
    pub creatives_per_product: usize,
    /// Side of the square images in pixels.
    pub image_size: u32,
    /// Seed of the world.
    pub seed: u64,
}

/// What `rm synth` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthReport {
    /// The click log (`clicks.csv`, image paths relative to it).
    pub click_log: PathBuf,
    /// The hidden truth (`truth.csv`: true CTR and visible properties).
    pub truth: PathBuf,
    /// Images written (under `images/`).
    pub images: usize,
}

fn create(path: &Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(std::io::BufWriter::new(file))
}

/// Generates the world and writes `images/<creative>.png`, `clicks.csv` and
/// `truth.csv` into `options.out`.
pub fn write_synthetic_world(options: &SynthOptions) -> anyhow::Result<SynthReport> {
    if options.products == 0 || options.creatives_per_product == 0 {
        anyhow::bail!("--products and --creatives must be at least 1");
    }
    let world = SyntheticWorld::generate(&WorldConfig {
        seed: options.seed,
        products: options.products,
        creatives_per_product: options.creatives_per_product,
        image_size: options.image_size,
        ..WorldConfig::default()
    })?;
    let image_dir = options.out.join("images");
    std::fs::create_dir_all(&image_dir)
        .with_context(|| format!("creating {}", image_dir.display()))?;
    let click_log = options.out.join("clicks.csv");
    let truth = options.out.join("truth.csv");
    let mut log = create(&click_log)?;
    let mut hidden = create(&truth)?;
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| anyhow::anyhow!("writing {path}: {e}")
    };
    writeln!(log, "creative_id,product_id,image_path,impressions,clicks")
        .map_err(io(&click_log))?;
    writeln!(
        hidden,
        "creative_id,true_ctr,brightness,harmony,clutter,scale"
    )
    .map_err(io(&truth))?;
    for c in &world.creatives {
        let name = format!("images/{}.png", c.id);
        let path = options.out.join(&name);
        c.image
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        let product = &world.products[c.product].id;
        writeln!(
            log,
            "{},{product},{name},{},{}",
            c.id, c.impressions, c.clicks
        )
        .map_err(io(&click_log))?;
        let t = &c.traits;
        writeln!(
            hidden,
            "{},{:.6},{:.4},{:.4},{:.4},{:.4}",
            c.id, c.true_ctr, t.brightness, t.harmony, t.clutter, t.scale
        )
        .map_err(io(&truth))?;
    }
    log.flush().map_err(io(&click_log))?;
    hidden.flush().map_err(io(&truth))?;
    Ok(SynthReport {
        click_log,
        truth,
        images: world.creatives.len(),
    })
}
