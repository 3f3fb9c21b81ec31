#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::resp_session`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::resp_session::run(data));
