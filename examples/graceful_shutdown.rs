//! A multi-protocol server (native and RocketMQ echo) configured by a file, serving until
//! Ctrl-C or SIGTERM, then shutting down gracefully: requests in flight are answered, then
//! every connection closes.
//!
//! ```sh
//! cargo run --example graceful_shutdown -- examples/graceful.toml
//! ```

use polywire::rt::ServerSetup;
use polywire_examples::graceful::{serve_until, start};

/// Ctrl-C, or SIGTERM on Unix (what `kill` and service managers send).
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => println!("Ctrl-C: shutting down"),
        _ = term => println!("SIGTERM: shutting down"),
    }
}

#[tokio::main]
async fn main() {
    polywire_examples::logging::from_env();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/graceful.toml".into());
    let setup = match ServerSetup::from_path(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let (multi, bound) = match start(&setup).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    for (what, addr) in bound {
        println!("listening on {addr} ({what})");
    }
    serve_until(multi, stop_signal()).await;
    println!("shut down");
}
