//! `nashir config default`: every setting, its default and what it does.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::config::Config;

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a documented nashir.toml with every setting at its default.
    Default,
}

pub fn run(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Default => print!("{}", Config::example_toml()),
    }
    Ok(ExitCode::SUCCESS)
}
