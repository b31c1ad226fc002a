//! The `imgconform` command line.

// Every write to the terminal goes through `imgconform::console`, which never
// panics on a closed pipe; plain `println!` would.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;

/// The generators build and drop many small values (proptest's value
/// trees, JSON drafts); mimalloc serves them faster than the system
/// allocator (`cargo bench --bench run` measures the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
