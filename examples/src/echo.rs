//! Echo servers of the bundled protocols, as the tests and the load tool use them.

use polywire::rt::{ProcessError, RemotingServer, RequestContext, ServerConfig};
use polywire_protocols::native::{BasicEcho, NativeProtocol, serve_basic_now};
use polywire_protocols::rocketmq::{Frame, ResponseCode, RocketmqProtocol};
use std::sync::Arc;

/// RocketMQ's echo code (a test code, as in RocketMQ's own remoting tests).
pub const ROCKETMQ_ECHO: i64 = 2001;

/// A native server answering its `Basic` service at once (echo, ping, log).
pub fn native(config: ServerConfig) -> RemotingServer<NativeProtocol> {
    let server = RemotingServer::new(NativeProtocol, config);
    serve_basic_now(&server, Arc::new(BasicEcho));
    server
}

/// A RocketMQ server answering [`ROCKETMQ_ECHO`] with the request's body and extFields
/// and SUCCESS.
pub fn rocketmq(config: ServerConfig) -> RemotingServer<RocketmqProtocol> {
    let server = RemotingServer::new(RocketmqProtocol, config);
    server.register_processor(
        ROCKETMQ_ECHO,
        |_ctx: RequestContext, mut req: Frame| async move {
            req.header.code = ResponseCode::Success.to_repr();
            Ok::<_, ProcessError>(req)
        },
    );
    server
}
