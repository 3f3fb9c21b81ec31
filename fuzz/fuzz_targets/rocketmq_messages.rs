#![no_main]
//! Fuzz target: see `polywire_fuzz::targets::rocketmq_messages`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| polywire_fuzz::targets::rocketmq_messages::run(data));
