use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of glibc's malloc: searches and page renders allocate a short-lived String
// per word, and glibc kept freed memory after a related-articles pass over a large archive.
// Measured in BENCHMARKS.md (issue 8).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands freed memory back to the OS after a related pass over a big archive: mimalloc's
/// heaps (Rust's allocations) and glibc's malloc (C libraries such as SQLite).
fn release_memory() {
    #[allow(unsafe_code)]
    // SAFETY: mi_collect only returns free pages of mimalloc's heaps to the OS; it takes no
    // pointers and is safe to call from any thread.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only releases free memory held by the allocator; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn main() -> ExitCode {
    nashir::related::set_memory_release_hook(release_memory);
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
