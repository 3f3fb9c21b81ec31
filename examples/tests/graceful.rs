//! `examples/graceful_shutdown.rs`'s server: started from a configuration file, its ids
//! checked, serving until told to stop, then shut down with calls answered.

use bytes::Bytes;
use polywire::rt::{ClientConfig, ConfigError, RemotingClient, ServerSetup};
use polywire_examples::graceful::{serve_until, start};
use polywire_protocols::native::{BasicClient, EchoRequest, NativeProtocol};
use std::time::Duration;

fn setup(text: &str) -> ServerSetup {
    let path = std::env::temp_dir().join(format!(
        "polywire-graceful-{}-{}.toml",
        std::process::id(),
        text.len()
    ));
    std::fs::write(&path, text).expect("a temporary file");
    let s = ServerSetup::from_path(&path).expect("a valid file");
    std::fs::remove_file(&path).expect("removed");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_until_told_then_shuts_down() {
    let setup = setup(
        "listen = [\"127.0.0.1:0\"]\n[protocols.rocketmq-remoting]\nserver = { pool_size = 2 }\n",
    );
    let (multi, bound) = start(&setup).await.expect("starts");
    let addr = bound[0].1.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(serve_until(multi, async {
        let _ = rx.await;
    }));
    let c = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let r = BasicClient::new(c.clone(), addr.clone())
        .echo(EchoRequest {
            body: Bytes::from_static(b"hi"),
        })
        .await
        .expect("an echo");
    assert_eq!(&r.body[..], b"hi");
    tx.send(()).expect("the server waits");
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("shuts down")
        .expect("no panic");
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}

#[tokio::test]
async fn a_misspelt_protocol_id_is_refused() {
    let setup =
        setup("listen = [\"127.0.0.1:0\"]\n[protocols.rocketmq]\nlisten = [\"127.0.0.1:0\"]\n");
    match start(&setup).await {
        Err(ConfigError::UnknownProtocol { id, known }) => {
            assert_eq!(id, "rocketmq");
            assert!(known.iter().any(|k| k == "rocketmq-remoting"), "{known:?}");
        }
        Ok(_) => panic!("accepted"),
        Err(e) => panic!("{e}"),
    }
}
