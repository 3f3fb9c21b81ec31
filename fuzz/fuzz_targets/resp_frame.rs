#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::resp_frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::resp_frame::run(data));
