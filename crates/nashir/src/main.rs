use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = nashir::cli::Cli::parse();
    nashir::cli::init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nashir: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(nashir::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // One clear line for operators, no panic trace.
            eprintln!("nashir: {e:#}");
            ExitCode::FAILURE
        }
    }
}
