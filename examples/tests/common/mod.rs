//! What the tests against software nobody here wrote share.

// Each test crate uses what it needs of this module.
#![allow(dead_code)]

use bytes::Bytes;
use polywire::rt::{ClientConfig, RemotingClient};
use polywire_protocols::native::{BasicClient, EchoRequest, NativeProtocol};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Whether `program args` runs (and, when `success`, exits 0); a loud skip (or, under CI, a
/// failure) when it does not.
pub fn have(program: &str, args: &[&str], success: bool, what: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success() || !success);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is not installed, and CI must run this test"
        );
        eprintln!("\n!!!!!!!! {what} not found: test SKIPPED !!!!!!!!\n");
    }
    ok
}

/// Reads until the peer closes (or 5 s pass); what was read and whether it closed.
pub async fn until_closed(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(end.into(), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

/// The native echo server on `addr` (a port it shares) answers `body`.
pub async fn native_echo(addr: SocketAddr, body: &'static [u8]) {
    let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let basic = BasicClient::new(client, addr.to_string());
    let reply = tokio::time::timeout(
        Duration::from_secs(10),
        basic.echo(EchoRequest {
            body: Bytes::from_static(body),
        }),
    )
    .await
    .expect("the native echo answers within 10 s")
    .expect("the native echo answers on the shared port");
    assert_eq!(&reply.body[..], body);
}
