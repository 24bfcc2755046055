//! `adstudio models`: what the model registry finds for each role, and
//! where.

use clap::{Args, Subcommand};

use crate::studio::{ModelRegistry, ModelRole, RoleStatus};

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
    /// Every role: found where (and by which rule), or what is missing.
    List,
    /// The path of one role's model (exit code 1 when it is missing).
    Path {
        /// The role: sd15, controlnet-canny, prompt-model, reward-model or
        /// u2netp.
        #[arg(value_parser = parse_role)]
        role: ModelRole,
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

/// Runs `adstudio models`.
pub fn run_models(args: &ModelsArgs, registry: &ModelRegistry) -> anyhow::Result<()> {
    match &args.command {
        ModelsCommand::List => {
            for line in status_lines(&registry.status()) {
                println!("{line}");
            }
            Ok(())
        }
        ModelsCommand::Path { role } => {
            let found = registry.locate(*role)?;
            println!("{}", found.path.display());
            Ok(())
        }
    }
}
