//! The counters of a `MultiServer` and a client, scraped from the `/metrics` endpoint of
//! `examples/metrics.rs` as Prometheus would: every protocol's requests, responses, errors,
//! bytes, open connections and latency histogram, labelled by protocol, role and transport
//! (native over TCP and over TLS on one port, RocketMQ, and RESP's exchange server), and
//! the totals over the `MultiServer`.

use polywire::Protocol;
use polywire::rt::prometheus::Exporter;
use polywire::rt::{
    ClientConfig, MultiServer, MultiServerConfig, RemotingClient, RemotingServer, ServerConfig,
    TlsMode, TlsSettings,
};
use polywire_protocols::native::{
    BasicClient, BasicEcho, EchoRequest, NativeProtocol, serve_basic_now,
};
use polywire_protocols::rocketmq::RocketmqProtocol;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn scrape(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn the_metrics_endpoint_shows_every_protocol_s_counters() {
    let (tls, client_tls) = polywire_examples::self_signed::localhost().unwrap();
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            config: Arc::new(tls),
            mode: TlsMode::Permissive,
        }),
        ..MultiServerConfig::default()
    });
    let native = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&native, Arc::new(BasicEcho));
    multi.add(native).unwrap();
    let (rocketmq, _) = polywire_examples::rocketmq_echo::serve("127.0.0.1:0")
        .await
        .unwrap();
    multi.add(rocketmq).unwrap();
    let resp = polywire_protocols::resp::server(
        polywire_examples::redis_server::Redis::default(),
        Default::default(),
    );
    multi.add(resp).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap();

    // Three RESP commands (one inline), the last with the wrong arity (an error reply, but
    // not a failure: resp.wire's exchange declares no `status`).
    let mut redis = tokio::net::TcpStream::connect(addr).await.unwrap();
    redis
        .write_all(b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$3\r\nGET\r\n")
        .await
        .unwrap();
    let mut answers = Vec::new();
    while !answers.ends_with(b"command\r\n") {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(5), redis.read(&mut buf))
            .await
            .expect("answered")
            .unwrap();
        assert!(n > 0, "closed after {answers:?}");
        answers.extend_from_slice(&buf[..n]);
    }
    assert_eq!(
        answers,
        b"+PONG\r\n+PONG\r\n-ERR wrong number of arguments for 'get' command\r\n"
    );
    // Bytes that are not RESP on a second connection: a protocol error, then the close.
    let mut bad = tokio::net::TcpStream::connect(addr).await.unwrap();
    bad.write_all(b"*1\r\n$x\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), bad.read_to_string(&mut answer))
        .await
        .expect("closed")
        .unwrap();
    assert!(answer.starts_with("-ERR Protocol error"), "{answer}");
    // Its task counts it closed just after the socket closes.
    let resp_connections = || {
        multi
            .metrics()
            .into_iter()
            .find(|(id, _)| *id == "resp")
            .map(|(_, m)| m.connections)
    };
    for _ in 0..500 {
        if resp_connections() == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // One native call over TLS on the same port, its connection kept open.
    let secure = RemotingClient::new(
        NativeProtocol,
        ClientConfig {
            tls: Some(client_tls),
            ..ClientConfig::default()
        },
    );
    let secure = BasicClient::new(secure, addr.to_string());
    secure
        .echo(EchoRequest { body: "hi".into() })
        .await
        .unwrap();

    let native_client = RemotingClient::new(NativeProtocol, ClientConfig::default());
    let basic = BasicClient::new(native_client.clone(), addr.to_string());
    for _ in 0..7 {
        basic.echo(EchoRequest { body: "hi".into() }).await.unwrap();
    }
    let rmq = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    for code in [2001, 2001, 9999] {
        rmq.invoke(
            &addr.to_string(),
            RocketmqProtocol.request(code),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let exporter = Exporter::new().multi_server(&multi).client(&native_client);
    let task = tokio::spawn(polywire_examples::metrics::serve(listener, exporter));
    let page = scrape(metrics_addr, "/metrics").await;
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(
        page.contains("content-type: application/openmetrics-text"),
        "{page}"
    );
    let native = r#"{protocol="polywire-native",role="server",transport="tcp"}"#;
    let native_tls = r#"{protocol="polywire-native",role="server",transport="tls"}"#;
    let rocket = r#"{protocol="rocketmq-remoting",role="server",transport="tcp"}"#;
    let resp = r#"{protocol="resp",role="server",transport="tcp"}"#;
    for want in [
        format!("polywire_requests_total{native_tls} 1"),
        format!("polywire_connections{native_tls} 1"),
        format!("polywire_requests_total{resp} 3"),
        format!("polywire_responses_total{resp} 3"),
        format!("polywire_errors_total{resp} 1"),
        format!("polywire_connections{resp} 1"),
        format!("polywire_latency_seconds_count{resp} 3"),
        format!("polywire_requests_total{native} 7"),
        format!("polywire_responses_total{native} 7"),
        format!("polywire_errors_total{native} 0"),
        format!("polywire_connections{native} 1"),
        format!("polywire_latency_seconds_count{native} 7"),
        format!("polywire_requests_total{rocket} 3"),
        // 9999 is not a code the echo server handles: an error status.
        format!("polywire_errors_total{rocket} 1"),
        r#"polywire_requests_total{protocol="polywire-native",role="client"} 7"#.to_string(),
        "# TYPE polywire_latency_seconds histogram".to_string(),
        format!(
            "polywire_latency_seconds_bucket{{le=\"+Inf\",{} 7",
            &native[1..]
        ),
        "# EOF".to_string(),
    ] {
        assert!(page.contains(&want), "no `{want}` in\n{page}");
    }
    // Bytes are counted both ways, on both sides (7 echoes of 11 bytes or more each).
    let value = |series: &str| -> u64 {
        page.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{page}"))
    };
    let client = r#"{protocol="polywire-native",role="client"}"#;
    for series in [
        format!("polywire_bytes_in_total{native}"),
        format!("polywire_bytes_out_total{native}"),
        format!("polywire_bytes_in_total{client}"),
        format!("polywire_bytes_out_total{client}"),
    ] {
        assert!(value(&series) >= 7 * 11, "{series}: {}", value(&series));
    }
    // Totals over the MultiServer.
    let total = multi.metrics_total();
    assert_eq!((total.requests, total.responses, total.errors), (14, 14, 2));
    drop(secure);
    let native_by: Vec<_> = multi
        .metrics_by_transport()
        .into_iter()
        .filter(|(id, _, _)| *id == NativeProtocol.id())
        .map(|(_, t, m)| (t.as_str(), m.requests))
        .collect();
    assert_eq!(native_by, [("tcp", 7), ("tls", 1)]);
    assert!(
        scrape(metrics_addr, "/other")
            .await
            .starts_with("HTTP/1.1 404")
    );
    task.abort();
    multi.shutdown().await;
}
