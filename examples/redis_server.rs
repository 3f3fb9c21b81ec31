//! An in-memory Redis-compatible server: the server generated from
//! `protocols/wire/resp.wire` and the commands of `examples/src/redis_db.rs`.
//!
//! ```text
//! cargo run --release --example redis_server -- --listen 127.0.0.1:6390
//! redis-cli -p 6390 set greeting hello
//! redis-cli -p 6390 -3 hello 3
//! redis-benchmark -p 6390 -t set,get -n 100000 -P 16
//! ```
//! The MQTT broker and the native and RocketMQ echo servers share the port. It runs on one
//! thread, as Redis does; `--threads N` runs it on N.
//!
//! It allocates with mimalloc, as Redis does with jemalloc: a server that allocates and
//! frees per request (the decoded words, the stored values, each message's handler) spends
//! a good part of its time in the allocator, and glibc's is the slower one at that.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::io::Result<()> {
    polywire_examples::logging::from_env();
    let mut listen = "127.0.0.1:6379".to_string();
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    let usage = "usage: redis_server [--listen ADDR] [--threads N]";
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            "--threads" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n >= 1 => threads = n,
                _ => {
                    eprintln!("--threads takes a number from 1; {usage}");
                    std::process::exit(2);
                }
            },
            other => {
                eprintln!("unknown argument {other:?}; {usage}");
                std::process::exit(2);
            }
        }
    }
    // One thread, as Redis has, unless asked for more.
    let rt = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    rt.block_on(async {
        let (multi, addr, _redis) = polywire_examples::redis_server::serve(&listen).await?;
        println!("listening on {addr}");
        tokio::signal::ctrl_c().await?;
        multi.shutdown().await;
        Ok(())
    })
}
