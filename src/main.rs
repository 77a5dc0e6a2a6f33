//! The `ladder` binary: see `ladder --help`.

fn main() -> std::process::ExitCode {
    ladder::cli::main()
}
