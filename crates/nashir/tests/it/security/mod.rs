//! Issue 15's adversarial suite: who may call what (a matrix generated from the router),
//! hostile input on every form and JSON endpoint, fuzzing of the parsers, and crash safety
//! under `kill -9`. The soak test is `scripts/soak`; long fuzz runs are `scripts/fuzz`.

mod access;
mod crash;
mod fuzz;
pub use fuzz::fuzz_cases;
mod hostile;
