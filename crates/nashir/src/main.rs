use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of glibc's malloc: searches and page renders allocate a short-lived String
// per word, and glibc kept freed memory after a related-articles pass over a large archive.
// Measured in BENCHMARKS.md (issue 8).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's "arena eager commit" (its default on Linux) commits each 1 GiB arena up front and
/// then keeps the pages a burst touched instead of handing them back: after five seconds of
/// uncached searches the server held 79 MB of anonymous memory, 54 MB with commit on demand,
/// and started at 48 MB instead of 33 (BENCHMARKS.md, issue 20). It must be set before the
/// first arena is made, i.e. before Rust's runtime allocates anything: `.init_array` runs
/// before `main`, and no C constructor of ours allocates through mimalloc (only Rust does).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static MIMALLOC_ON_DEMAND_COMMIT: extern "C" fn() = mimalloc_on_demand_commit;

#[cfg(target_os = "linux")]
extern "C" fn mimalloc_on_demand_commit() {
    /// `mi_option_arena_eager_commit` in mimalloc v3's option enum (libmimalloc-sys's named
    /// constants are v2's numbers; this crate builds v3).
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    #[allow(unsafe_code)]
    // SAFETY: mi_option_set only stores an option value; it takes no pointers and needs no
    // initialised allocator.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

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
