#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::mqtt_frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::mqtt_frame::run(data));
