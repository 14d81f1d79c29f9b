//! The `atmr` binary: parses the command line and hands over to the launcher.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    atmr::main(atmr::Cli::parse())
}
