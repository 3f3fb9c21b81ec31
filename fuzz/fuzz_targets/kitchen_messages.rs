#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::kitchen_messages`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::kitchen_messages::run(data));
