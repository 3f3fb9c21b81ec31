//! The RocketMQ frame codec on a stream of frames (the header in JSON or in the binary
//! layout, as each frame's serialize byte says), and the typed requests and responses of
//! the `Broker` and `NameServer` services on every frame that decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polywire_fuzz::rocketmq::*;
use polywire_fuzz::{check_codec, check_typed};

fuzz_target!(|data: &[u8]| {
    let codec = FrameCodec::new();
    for frame in check_codec(codec.clone(), data) {
        check_typed!(codec, &frame;
            SendMessageRequest, SendMessageResponse,
            SendMessageV2Request, SendMessageV2Response,
            PullMessageRequest, PullMessageResponse,
            HeartBeatRequest, HeartBeatResponse,
            UpdateAndCreateTopicRequest, UpdateAndCreateTopicResponse,
            GetRouteinfoByTopicRequest, GetRouteinfoByTopicResponse,
            GetBrokerClusterInfoRequest, GetBrokerClusterInfoResponse);
    }
});
