#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::wire_parser`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::wire_parser::run(data));
