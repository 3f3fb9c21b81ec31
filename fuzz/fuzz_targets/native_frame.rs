//! The native frame codec on a stream of frames, and the typed requests and responses of
//! its `Basic` service on every frame that decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polywire_fuzz::native::*;
use polywire_fuzz::{check_codec, check_typed};

fuzz_target!(|data: &[u8]| {
    let codec = FrameCodec::new();
    for frame in check_codec(codec.clone(), data) {
        check_typed!(codec, &frame;
            EchoRequest, EchoResponse, PingRequest, PingResponse, LogRequest);
    }
});
