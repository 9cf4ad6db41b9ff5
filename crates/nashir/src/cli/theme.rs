//! `nashir theme export DIR`: the built-in theme as files, a starting point for a newsroom's
//! own (copy what you change into `<data dir>/theme/`; see docs/themes.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ThemeArgs {
    #[command(subcommand)]
    pub command: ThemeCommand,
}

#[derive(Subcommand, Debug)]
pub enum ThemeCommand {
    /// Write the built-in templates and style.css into DIR (refuses to overwrite files).
    Export {
        /// Where to write the files (created if missing).
        dir: PathBuf,
    },
}

pub fn run(args: &ThemeArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ThemeCommand::Export { dir } => {
            let files = crate::web::builtin_theme();
            // Check first, so a refusal leaves nothing half written.
            if let Some((name, _)) = files.iter().find(|(name, _)| dir.join(name).exists()) {
                anyhow::bail!("{} already exists; export into an empty directory", dir.join(name).display());
            }
            for (name, content) in &files {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!("wrote {} files to {}", files.len(), dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
