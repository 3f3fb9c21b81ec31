//! A `MultiServer` with native and RocketMQ, and its counters for Prometheus on a second
//! port: `cargo run --example metrics -- [--listen ADDR] [--metrics ADDR]`, then
//! `curl ADDR/metrics`. Serves until Ctrl-C.

use polywire::rt::prometheus::Exporter;
use polywire::rt::{MultiServer, MultiServerConfig, RemotingServer, ServerConfig};
use polywire_protocols::native::{BasicEcho, NativeProtocol, serve_basic_now};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    polywire_examples::logging::from_env();
    let (mut listen, mut metrics) = ("127.0.0.1:0".to_string(), "127.0.0.1:0".to_string());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--metrics" => metrics = args.next().ok_or("--metrics needs an address")?,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let multi = MultiServer::new(MultiServerConfig::default());
    let native = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&native, Arc::new(BasicEcho));
    multi.add(native)?;
    let (rocketmq, _) = polywire_examples::rocketmq_echo::serve("127.0.0.1:0").await?;
    multi.add(rocketmq)?;
    let addr = multi.bind(&listen).await?;
    let listener = tokio::net::TcpListener::bind(&metrics).await?;
    println!("listening on {addr}");
    println!("metrics on http://{}/metrics", listener.local_addr()?);
    let exporter = Exporter::new().multi_server(&multi);
    tokio::select! {
        () = polywire_examples::metrics::serve(listener, exporter) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    multi.shutdown().await;
    Ok(())
}
