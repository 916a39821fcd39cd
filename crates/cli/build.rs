//! Links the `dengta` executable position-dependent (non-PIE) on Linux.
//!
//! A position-independent `dengta` makes the dynamic loader patch some 256,000
//! addresses (vtables and constants of DataFusion, Ballista, axum…) at every
//! start, copying 4.4 MB of pages: about 5 ms before `main`, and more again to
//! free them at exit. That is a sixth of a nightly `dengta ingest` at 1 M orders
//! (BENCHMARKS.md, docs/DECISIONS.md "The executable is position-dependent").
//! The libraries, heap and stacks stay randomised; only the executable's own
//! code and data sit at a fixed address, as with Go's default build.
//!
//! Only the link changes (every crate is compiled position-independent as
//! usual), so this costs no rebuild of the dependencies. `DENGTA_PIE=1` at build
//! time keeps the usual position-independent executable.

fn main() {
    println!("cargo:rerun-if-env-changed=DENGTA_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let keep_pie = std::env::var("DENGTA_PIE").is_ok_and(|v| v == "1");
    if linux && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
