//! `adstudio pcpo adapters` (list the stored adapters) and `adstudio pcpo
//! export` (merge one into its base model, checked by hash, and write a
//! Hugging Face folder; for a LLaVA base, the whole LLaVA checkpoint with
//! its vision tower and projector).

use std::path::PathBuf;

use anyhow::{anyhow, Context as _};

pub use crate::studio::adapters::recorded_base;
use crate::studio::adapters::valid_accuracy;
use clap::Args;

use super::pcpo::open_store;
use crate::ml::pcpo::{load_adapter_for, BaseModel};
use crate::ml::prompt_model::{
    export_hf_folder, export_llava_folder, source_tokenizer_config, GgufPrecision, LoadOptions,
    PromptModel,
};
use crate::store::{AdapterId, AdapterRow, Store};
use crate::studio::roles::is_llava_folder;

/// Arguments of `adstudio pcpo export`.
#[derive(Debug, Clone, Args)]
pub struct PcpoExportArgs {
    /// The adapter: its id or its name (see `adstudio pcpo adapters`).
    #[arg(long)]
    pub adapter: String,
    /// The base model it was trained on (.gguf file or model folder).
    #[arg(long)]
    pub model: PathBuf,
    /// The folder to create (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `adstudio pcpo adapters`: one line per adapter, newest first.
pub fn run_list(data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (_, store) = open_store(data_dir)?;
    let rows = store.list_adapters().context("listing the adapters")?;
    if rows.is_empty() {
        println!("no adapters (train one with `adstudio pcpo train`)");
        return Ok(());
    }
    println!("id\tname\tbase model\tbase sha256\tcreated\tvalid accuracy");
    for row in &rows {
        let hash = recorded_base(row)
            .map(|b| b.short_hash(12).to_string())
            .unwrap_or_else(|_| "-".to_string());
        let acc = valid_accuracy(row).map_or_else(|| "-".to_string(), |a| format!("{a:.3}"));
        println!(
            "{}\t{}\t{}\t{hash}\t{}\t{acc}",
            row.id, row.name, row.base_model, row.created_at
        );
    }
    Ok(())
}

/// The adapter named by `key`: an id when it is a number that names one,
/// otherwise a name.
pub fn find_adapter(store: &Store, key: &str) -> anyhow::Result<AdapterRow> {
    if let Ok(id) = key.parse::<i64>() {
        if let Some(row) = store.adapter(AdapterId(id)).context("reading adapters")? {
            return Ok(row);
        }
    }
    store
        .adapter_by_name(key)
        .context("reading adapters")?
        .ok_or_else(|| {
            anyhow!("no adapter with id or name {key:?} (list them with `adstudio pcpo adapters`)")
        })
}

/// Runs `adstudio pcpo export`.
pub fn run_export(a: &PcpoExportArgs, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (data, store) = open_store(data_dir)?;
    let row = find_adapter(&store, &a.adapter)?;
    let recorded = recorded_base(&row)?;
    let actual = BaseModel::of(&a.model)
        .with_context(|| format!("hashing the base model {}", a.model.display()))?;
    recorded.check(&actual)?;
    let opts = LoadOptions {
        precision: GgufPrecision::F32,
        ..LoadOptions::default()
    };
    let mut model = PromptModel::load(&a.model, &opts)
        .with_context(|| format!("loading the base model {}", a.model.display()))?;
    let file = data.root().join(&row.path);
    let n = load_adapter_for(model.decoder_mut(), &file, &recorded, &actual)
        .with_context(|| format!("loading adapter {} from {}", row.id, file.display()))?;
    model
        .decoder_mut()
        .merge_lora()
        .context("merging the adapter")?;
    if is_llava_folder(&a.model) {
        export_llava_folder(&model, &a.model, &a.out)
    } else {
        let tok_cfg = source_tokenizer_config(&a.model, &model)
            .context("reading the base model's tokenizer settings")?;
        export_hf_folder(&model, &tok_cfg, &a.out)
    }
    .with_context(|| format!("exporting to {}", a.out.display()))?;
    println!(
        "adapter {} {:?} ({n} projections) merged into {} and written to {}",
        row.id,
        row.name,
        actual.id,
        a.out.display()
    );
    Ok(())
}
