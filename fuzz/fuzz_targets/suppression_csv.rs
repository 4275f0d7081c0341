//! Fuzz target `suppression_csv`: see `fuzz/export_checks.rs` (`check_suppression_csv`) for what it checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../export_checks.rs"]
mod export_checks;

fuzz_target!(|data: &[u8]| export_checks::check_suppression_csv(data));
