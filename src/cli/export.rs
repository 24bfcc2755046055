//! `adstudio export`: a product's winners (its renders ranked by the stored
//! reward scores) at ad-platform sizes, with the product at the resolution
//! of its original photo.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;

use crate::jobs::InlineReporter;
use crate::paths::DataDir;
use crate::store::ProductId;
use crate::studio::export::{
    export_winners, ExportJob, ExportReport, ExportSize, OutputFormat, ProductSelection,
};
use crate::studio::{registry_for, ModelHub, Progress, Studio};

/// Arguments of `adstudio export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The product id (as listed by the studio's catalog) or `all`.
    #[arg(long, value_parser = parse_products)]
    pub product: ProductSelection,
    /// Comma-separated sizes: meta-feed (1080x1080), meta-feed-45
    /// (1080x1350), reels or stories (1080x1920), link (1200x628),
    /// marketplace (2000x2000, product on white) or WIDTHxHEIGHT.
    #[arg(long, value_parser = parse_sizes)]
    pub sizes: SizeList,
    /// Winners per product and size.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub top: u32,
    /// The output folder (files go to OUT/<product id>/rank<r>-<size>.png).
    #[arg(long)]
    pub out: PathBuf,
    /// Write JPEG at this quality (1-100) instead of PNG.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub jpeg_quality: Option<u8>,
}

/// The parsed `--sizes` list.
#[derive(Debug, Clone)]
pub struct SizeList(pub Vec<ExportSize>);

fn parse_sizes(s: &str) -> Result<SizeList, String> {
    ExportSize::parse_list(s)
        .map(SizeList)
        .map_err(|e| e.to_string())
}

fn parse_products(s: &str) -> Result<ProductSelection, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(ProductSelection::All);
    }
    s.split(',')
        .map(|id| {
            id.trim()
                .parse::<i64>()
                .map(ProductId)
                .map_err(|_| format!("{id:?} is not a product id; use a number or `all`"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ProductSelection::Ids)
}

/// Runs `adstudio export`: prints one line per written file and the skip
/// notes; fails when nothing could be exported.
pub fn run_export(args: &ExportArgs, data_dir: Option<PathBuf>) -> anyhow::Result<ExportReport> {
    let data = DataDir::resolve(data_dir).context("finding the data directory")?;
    let hub = Arc::new(ModelHub::new(registry_for(Some(&data))));
    let studio = Studio::open(&data, hub)?;
    let job = ExportJob {
        products: args.product.clone(),
        sizes: args.sizes.0.clone(),
        top_k: args.top as usize,
        out_dir: args.out.clone(),
        format: args
            .jpeg_quality
            .map_or(OutputFormat::Png, |quality| OutputFormat::Jpeg { quality }),
    };
    let rep = InlineReporter::new(|p: Progress| {
        if let Progress::Steps(s) = p {
            log::info!("[{}/{}] {}", s.done, s.total, s.label);
        }
    });
    let report = export_winners(&studio, &rep, &job)
        .with_context(|| format!("exporting to {}", args.out.display()))?;
    for file in &report.files {
        let ctr = file
            .ctr
            .map_or_else(|| "-".to_string(), |c| format!("{:.2}%", c * 100.0));
        println!(
            "product {}\t{}\trank {}\tpredicted CTR {ctr}\t{}",
            file.product.0,
            file.size,
            file.rank.map_or_else(|| "-".to_string(), |r| r.to_string()),
            file.path.display()
        );
    }
    for note in &report.skipped {
        eprintln!("skipped: {note}");
    }
    println!(
        "{} files written to {}",
        report.files.len(),
        args.out.display()
    );
    Ok(report)
}
