use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of glibc's malloc: searches and page renders allocate a short-lived String
// per word, and glibc kept freed memory after a related-articles pass over a large archive.
// Measured in BENCHMARKS.md (issue 8).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
