//! The `atmr` binary: parses the command line and hands over to the launcher.

use clap::Parser as _;

/// mimalloc instead of glibc's allocator: under load the services allocate and
/// free small buffers on every request from several threads, and glibc's arenas
/// spent about a sixth of the gateway benchmark's CPU in malloc, free and their
/// locks (BENCHMARKS.md, "Gateway").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    atmr::main(atmr::Cli::parse())
}
