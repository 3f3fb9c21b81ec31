//! The RocketMQ frame codec on a stream of frames (the header in JSON or in the binary
//! layout, as each frame's serialize byte says), and the typed requests and responses of
//! the `Broker` and `NameServer` services on every frame that decodes.

use crate::check_codec;
use crate::rocketmq::*;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let codec = FrameCodec::new();
    for frame in check_codec(codec.clone(), data) {
        crate::check_typed!(codec, &frame;
            SendMessageRequest, SendMessageResponse,
            SendMessageV2Request, SendMessageV2Response,
            PullMessageRequest, PullMessageResponse,
            HeartBeatRequest, HeartBeatResponse,
            UpdateAndCreateTopicRequest, UpdateAndCreateTopicResponse,
            GetRouteinfoByTopicRequest, GetRouteinfoByTopicResponse,
            GetBrokerClusterInfoRequest, GetBrokerClusterInfoResponse);
    }
}
