//! The kitchen-sink frame codec (every construct of the `.wire` language: bit fields, a
//! header in JSON or binary chosen by a discriminator, sized regions, every integer
//! width and byte order, optional fields, nested lists and maps) on a stream of frames,
//! and the typed requests and responses of its `Store` service.

use crate::check_codec;
use crate::kitchen::*;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let codec = FrameCodec::new();
    for frame in check_codec(codec.clone(), data) {
        crate::check_typed!(codec, &frame;
            PutRequest, PutResponse, GetRequest, GetResponse, NoteRequest,
            PingRequest, PingResponse);
    }
}
