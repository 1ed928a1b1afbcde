//! The `trailbook` binary: parses flags, runs a command, owns the exit code.

fn main() -> std::process::ExitCode {
    trailbook::cli::main()
}
