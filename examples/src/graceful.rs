//! A multi-protocol server run from a configuration file until it is told to stop, then
//! shut down gracefully: what `examples/graceful_shutdown.rs` runs until Ctrl-C or SIGTERM.

use polywire::rt::{ConfigError, MultiServer, ServerSetup};
use std::future::Future;
use std::net::SocketAddr;

/// Native and RocketMQ echo servers, set up by `setup` (their ids checked against the two
/// registered), listening where it says.
pub async fn start(
    setup: &ServerSetup,
) -> Result<(MultiServer, Vec<(String, SocketAddr)>), ConfigError> {
    let native = setup.server(polywire_protocols::native::NativeProtocol);
    polywire_protocols::native::serve_basic_now(
        &native,
        std::sync::Arc::new(polywire_protocols::native::BasicEcho),
    );
    let rocketmq = crate::echo::rocketmq(setup.server_config(polywire::Protocol::id(
        &polywire_protocols::rocketmq::RocketmqProtocol,
    )));
    let known = [
        polywire::Protocol::id(native.protocol()),
        polywire::Protocol::id(rocketmq.protocol()),
    ];
    setup.check_ids(&known)?;
    let multi = setup.multi_server();
    multi.add(native).expect("a new protocol id");
    multi.add(rocketmq).expect("a new protocol id");
    let bound = setup.bind(&multi).await.map_err(|source| ConfigError::Io {
        path: "listen".into(),
        source,
    })?;
    Ok((multi, bound))
}

/// Serves until `stop` completes, then shuts down gracefully: no new connections, requests
/// in flight answered, then every connection closed.
pub async fn serve_until(multi: MultiServer, stop: impl Future<Output = ()>) {
    stop.await;
    multi.shutdown().await;
}
