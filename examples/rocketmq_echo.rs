//! A RocketMQ-compatible server generated from `protocols/wire/rocketmq.wire`: echoes request
//! code 2001 (body and extFields, SUCCESS), answers GET_ROUTEINFO_BY_TOPIC for any topic with a
//! route pointing at itself, and answers other codes as RocketMQ does for unknown codes.
//!
//! `cargo run --release --example rocketmq_echo -- --listen 127.0.0.1:9876`
//! prints `listening on ADDR` once ready and runs until killed.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    polywire_examples::logging::from_env();
    let mut listen = "127.0.0.1:9876".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: rocketmq_echo --listen ADDR"
                )
                .into());
            }
        }
    }
    let (_server, addr) = polywire_examples::rocketmq_echo::serve(&listen).await?;
    println!("listening on {addr}");
    std::future::pending::<()>().await;
    Ok(())
}
