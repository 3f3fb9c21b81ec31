//! An in-memory Redis-compatible server: the server generated from
//! `protocols/wire/resp.wire` and the commands of `examples/src/redis_db.rs`.
//!
//! ```text
//! cargo run --release --example redis_server -- --listen 127.0.0.1:6390
//! redis-cli -p 6390 set greeting hello
//! redis-cli -p 6390 -3 hello 3
//! redis-benchmark -p 6390 -t set,get -n 100000 -P 16
//! ```
//! The MQTT broker and the native and RocketMQ echo servers share the port.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:6379".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            other => {
                eprintln!("unknown argument {other:?}; usage: redis_server [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let (multi, addr, _redis) = polywire_examples::redis_server::serve(&listen).await?;
    println!("listening on {addr}");
    tokio::signal::ctrl_c().await?;
    multi.shutdown().await;
    Ok(())
}
