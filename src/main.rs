//! The `mmcl` binary: parses the command line and maps outcomes to exit codes
//! (0 success, 1 runtime failure, 2 bad usage or input) in `cli::main`.

fn main() -> std::process::ExitCode {
    mmcl::cli::main()
}
