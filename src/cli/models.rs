//! `adstudio models`: what the model registry finds for each role and
//! where; the manifest's models; fetching and verifying them.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::models_fetch::{fetch_with_bars, verify_lines};
use crate::studio::download::installed_record;
use crate::studio::manifest::human_size;
use crate::studio::{Manifest, ModelRegistry, ModelRole, RoleStatus};

/// Arguments of `adstudio models`.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ModelsCommand,
}

/// Subcommands of `adstudio models`.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelsCommand {
    /// Every role: found where (and by which rule), or what is missing;
    /// then the manifest's models with size, licence and state.
    List,
    /// The path of one role's model (exit code 1 when it is missing).
    Path {
        /// The role (see `models list`).
        #[arg(value_parser = parse_role)]
        role: ModelRole,
    },
    /// Download a manifest entry (by name, or a role's default) from the
    /// Hugging Face hub into `<data dir>/models/ROLE/` (honours HF_ENDPOINT,
    /// HF_HOME and HF_TOKEN; resumes interrupted downloads).
    Fetch {
        /// An entry name or a role.
        target: String,
        /// Accept a licence that restricts use (shown before the download).
        #[arg(long)]
        accept_licence: bool,
    },
    /// Re-check fetched models against what was downloaded (size and
    /// sha256 of every file); all fetched roles when no name is given.
    Verify {
        /// An entry name or a role.
        target: Option<String>,
    },
}

fn parse_role(name: &str) -> Result<ModelRole, String> {
    ModelRole::parse(name).ok_or_else(|| {
        let names: Vec<&str> = ModelRole::ALL.iter().map(|r| r.name()).collect();
        format!(
            "unknown model role {name:?}; use one of {}",
            names.join(", ")
        )
    })
}

/// One line per role.
pub fn status_lines(status: &[RoleStatus]) -> Vec<String> {
    status
        .iter()
        .map(|s| match &s.found {
            Ok(found) => format!(
                "{:<17} found  {} ({})",
                s.role.name(),
                found.path.display(),
                found.origin
            ),
            Err(missing) => format!("{:<17} MISSING {missing}", s.role.name()),
        })
        .collect()
}

/// One indented line per manifest entry.
pub fn manifest_lines(manifest: &Manifest, registry: &ModelRegistry) -> Vec<String> {
    manifest
        .entries
        .iter()
        .map(|e| {
            let mut tags = Vec::new();
            if e.default {
                tags.push("default");
            }
            if e.recommended {
                tags.push("recommended");
            }
            if e.licence_restricted() {
                tags.push("licence must be accepted");
            }
            if e.repo.is_none() {
                tags.push("not on the hub");
            }
            let installed =
                installed_record(&registry.install_dir(e.role)).is_some_and(|r| r.name == e.name);
            if installed {
                tags.push("installed");
            }
            format!(
                "  {:<24} {:<17} {:>8}  {:<22} {:<24} {}",
                e.name,
                e.role.name(),
                human_size(e.approx_size()),
                e.licence,
                e.revision_label(),
                tags.join(", ")
            )
        })
        .collect()
}

/// The device models load on, their dtype and the memory available.
pub fn device_line() -> String {
    let device = crate::ml::device::process_device();
    let memory = crate::ml::memory::available_memory()
        .map(|m| format!(", {} memory available", crate::ml::memory::gib(m)))
        .unwrap_or_default();
    format!(
        "device: {} ({}){memory}",
        crate::ml::device::describe(&device),
        format!("{:?}", crate::ml::dtype_for(&device)).to_lowercase()
    )
}

/// Runs `adstudio models`; `models_dir` is `<data dir>/models` (the user
/// manifest's folder and where fetches go).
pub fn run_models(
    args: &ModelsArgs,
    registry: &ModelRegistry,
    models_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let manifest = || Manifest::load(models_dir.as_deref()).context("reading the model manifest");
    match &args.command {
        ModelsCommand::List => {
            println!("{}", device_line());
            for line in status_lines(&registry.status()) {
                println!("{line}");
            }
            println!("manifest (fetch with `adstudio models fetch NAME|ROLE`):");
            for line in manifest_lines(&manifest()?, registry) {
                println!("{line}");
            }
            Ok(())
        }
        ModelsCommand::Path { role } => {
            let found = registry.locate(*role)?;
            println!("{}", found.path.display());
            Ok(())
        }
        ModelsCommand::Fetch {
            target,
            accept_licence,
        } => fetch_with_bars(&manifest()?, registry, target, *accept_licence),
        ModelsCommand::Verify { target } => {
            for line in verify_lines(&manifest()?, registry, target.as_deref())? {
                println!("{line}");
            }
            Ok(())
        }
    }
}
