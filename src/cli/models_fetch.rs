//! `adstudio models fetch | verify`: downloads with indicatif progress bars
//! (on stderr, hidden when it is not a terminal) and the checks after.

use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressStyle};

use crate::studio::download::{
    fetch_entry, installed_record, verify_installed, FetchError, FetchEvent, FetchOptions,
    HubSettings,
};
use crate::studio::manifest::human_size;
use crate::studio::{Manifest, ManifestEntry, ModelRegistry, ModelRole};

fn find<'a>(manifest: &'a Manifest, target: &str) -> Result<&'a ManifestEntry, FetchError> {
    manifest
        .find(target)
        .ok_or_else(|| FetchError::UnknownEntry(target.to_string()))
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:30} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// Fetches `target` (entry or role) into the registry's folder for its
/// role, drawing one progress bar per file.
pub fn fetch_with_bars(
    manifest: &Manifest,
    registry: &ModelRegistry,
    target: &str,
    accept_licence: bool,
) -> anyhow::Result<()> {
    let entry = find(manifest, target)?;
    let dir = registry.install_dir(entry.role);
    let settings = HubSettings::from_env();
    println!(
        "{} ({}) for {}: {} files from {} at {}, licence {}",
        entry.name,
        human_size(entry.approx_size()),
        entry.role,
        entry.files.len(),
        entry.repo.as_deref().unwrap_or("-"),
        entry.revision,
        entry.licence
    );
    if entry.licence_restricted() {
        println!(
            "The {} licence restricts how the model may be used; read it on the model card{}.",
            entry.licence,
            if accept_licence {
                " (accepted with --accept-licence)"
            } else {
                ", then pass --accept-licence"
            }
        );
    }
    let mut bar: Option<ProgressBar> = None;
    let mut on_event = |event: FetchEvent| match event {
        FetchEvent::Started {
            file,
            total,
            resumed_from,
        } => {
            let b = ProgressBar::new(total)
                .with_style(bar_style())
                .with_message(file.clone());
            b.set_position(resumed_from);
            if resumed_from > 0 {
                println!("resuming {file} at {resumed_from} of {total} bytes");
            }
            bar = Some(b);
        }
        FetchEvent::Progress { done, .. } => {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        }
        FetchEvent::Resumed { file, at } => {
            println!("connection lost; resuming {file} at byte {at}");
        }
        FetchEvent::Verified { file, sha256 } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            println!("fetched {file} (sha256 {sha256})");
        }
        FetchEvent::Reused { file, size } => println!("cached  {file} ({size} bytes)"),
        FetchEvent::Installed { dir } => println!("installed into {}", dir.display()),
    };
    let result = fetch_entry(
        &settings,
        entry,
        &dir,
        FetchOptions { accept_licence },
        &mut on_event,
        &AtomicBool::new(false),
    );
    let installed = result?;
    if let Some(old) = installed.replaced {
        println!("the folder that was there was moved to {}", old.display());
    }
    Ok(())
}

/// The lines of `models verify [target]`; an error when a check fails.
pub fn verify_lines(
    manifest: &Manifest,
    registry: &ModelRegistry,
    target: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let roles: Vec<(ModelRole, Option<String>)> = match target {
        Some(t) => {
            let entry = find(manifest, t)?;
            vec![(entry.role, Some(entry.name.clone()))]
        }
        None => ModelRole::ALL.into_iter().map(|r| (r, None)).collect(),
    };
    let mut lines = Vec::new();
    for (role, name) in roles {
        let dir = registry.install_dir(role);
        let Some(record) = installed_record(&dir) else {
            if let Some(name) = name {
                anyhow::bail!("{name} is not fetched (no record in {})", dir.display());
            }
            continue;
        };
        if let Some(name) = name.filter(|n| *n != record.name) {
            anyhow::bail!("{} holds {}, not {name}", dir.display(), record.name);
        }
        lines.push(format!("{role}: {} in {}", record.name, dir.display()));
        lines.extend(
            verify_installed(&dir)?
                .into_iter()
                .map(|l| format!("  {l}")),
        );
    }
    if lines.is_empty() {
        lines.push("nothing fetched yet (see `adstudio models list`)".into());
    }
    Ok(lines)
}
