//! An in-memory MQTT 3.1.1 / 5.0 broker: the server generated from `protocols/wire/mqtt.wire`
//! and a few pages of broker logic (`examples/src/mqtt_broker.rs`).
//!
//! ```text
//! cargo run --release --example mqtt_broker -- --listen 127.0.0.1:1883
//! mosquitto_sub -p 1883 -t 'demo/#' -v &
//! mosquitto_pub -p 1883 -t demo/a -m hello -q 1
//! ```
//! MQTT over WebSocket is served on the same port, on the path `/mqtt` (subprotocol `mqtt`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    polywire_examples::logging::from_env();
    let mut listen = "127.0.0.1:1883".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            other => {
                eprintln!("unknown argument {other:?}; usage: mqtt_broker [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let (multi, addr, _broker) = polywire_examples::mqtt_broker::serve(&listen).await?;
    println!("listening on {addr}");
    tokio::signal::ctrl_c().await?;
    multi.shutdown().await;
    Ok(())
}
