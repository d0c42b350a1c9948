//! The `parity` binary: dispatches the measuring helper before anything else exists (see
//! `parity::runner::measure`), then hands over to the CLI.

use std::ffi::OsStr;

use parity::runner::measure::{MEASURE_ARG, measure_main};

fn main() {
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() == Some(OsStr::new(MEASURE_ARG)) {
        let rest: Vec<_> = args.collect();
        std::process::exit(measure_main(&rest));
    }
    return_large_buffers_to_the_system();
    std::process::exit(parity::cli::main());
}

/// The streaming diff allocates and frees a partition-sized buffer (~16 MiB) per partition.
/// glibc raises its mmap threshold to the size of the largest freed mapping, after which such
/// buffers come from the heap and fragment it: peak RSS then grew with the number of partitions,
/// i.e. with the input (123 MiB at 1x, 168 MiB at 4x, measured with scripts/bench_diff.py).
/// A fixed 1 MiB threshold keeps large buffers in their own mappings, returned on free
/// (100 MiB and 108 MiB).
fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
