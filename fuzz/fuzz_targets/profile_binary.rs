//! Fuzz target `profile_binary`: see `fuzz/checks.rs` (`check_profile_binary`) for what it checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_profile_binary(data));
