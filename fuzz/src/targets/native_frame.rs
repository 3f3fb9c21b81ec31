//! The native frame codec on a stream of frames, and the typed requests and responses of
//! its `Basic` service on every frame that decodes.

use crate::check_codec;
use crate::native::*;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let codec = FrameCodec::new();
    for frame in check_codec(codec.clone(), data) {
        crate::check_typed!(codec, &frame;
            EchoRequest, EchoResponse, PingRequest, PingResponse, LogRequest);
    }
}
