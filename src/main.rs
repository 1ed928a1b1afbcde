//! The `trailbook` binary: parses flags, runs a command, owns the exit code.

// mimalloc: the model of a large report is millions of small strings and vectors; glibc's
// allocator spends a fifth of a 1M-event `check` in malloc, free and fresh-page faults.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trailbook::cli::main()
}
