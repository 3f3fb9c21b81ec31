#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::dynamic_parity`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::dynamic_parity::run(data));
