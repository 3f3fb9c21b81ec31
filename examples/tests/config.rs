//! The runtime's configuration loads from TOML: durations as `"90s"`, defaults for what is
//! left out, TLS from PEM files, and errors that name the unknown field or the bad file.

use polywire::rt::{ClientConfig, MultiServerConfig, Overload, ServerConfig, TlsMode};
use std::time::Duration;

/// A configuration file of an application: one section per part.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server: ServerConfig,
    client: ClientConfig,
    shared: MultiServerConfig,
}

#[test]
fn server_client_and_shared_port_settings_load_from_toml() {
    let dir = std::env::temp_dir().join(format!("polywire-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
    let text = format!(
        r#"
[server]
max_connections = 500
idle_timeout = "90s"
executor_threads = 2
versions = [1, 2]

[client]
connect_timeout = "750ms"
overload = "fail_fast"

[shared]
detect_timeout = "2s"

[shared.tls]
mode = "enforcing"
cert = {cert:?}
key = {key:?}
"#,
        cert = cert_path.display().to_string(),
        key = key_path.display().to_string()
    );
    let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.server.max_connections, 500);
    assert_eq!(f.server.idle_timeout, Duration::from_secs(90));
    assert_eq!(f.server.executor_threads, 2);
    assert_eq!(f.server.versions, Some((1, 2)));
    // What is left out keeps its default.
    assert_eq!(
        f.server.max_in_flight,
        ServerConfig::default().max_in_flight
    );
    assert_eq!(f.client.connect_timeout, Duration::from_millis(750));
    assert_eq!(f.client.overload, Overload::FailFast);
    assert_eq!(f.client.backoff_max, ClientConfig::default().backoff_max);
    assert_eq!(f.shared.detect_timeout, Duration::from_secs(2));
    assert_eq!(
        f.shared.max_detect_bytes,
        MultiServerConfig::default().max_detect_bytes
    );
    assert_eq!(
        f.shared.tls.as_ref().map(|t| t.mode),
        Some(TlsMode::Enforcing)
    );

    // A misspelt field and an unreadable key file say which.
    let e = toml::from_str::<ServerConfig>("max_conections = 1").unwrap_err();
    assert!(e.to_string().contains("max_conections"), "{e}");
    let missing = dir.join("missing-key.pem");
    let bad = text.replace(
        &format!("{:?}", key_path.display().to_string()),
        &format!("{:?}", missing.display().to_string()),
    );
    let e = toml::from_str::<File>(&bad)
        .err()
        .expect("a missing key file fails");
    assert!(e.to_string().contains("missing-key.pem"), "{e}");
    let e = toml::from_str::<ServerConfig>("idle_timeout = \"soon\"").unwrap_err();
    assert!(e.to_string().contains("idle_timeout"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_whole_multi_protocol_server_starts_from_one_file() {
    use bytes::Bytes;
    use polywire::Protocol as _;
    use polywire::rt::{ClientConfig, RemotingClient, ServerSetup, Transport};
    use polywire_protocols::native::{BasicClient, BasicEcho, EchoRequest, NativeProtocol};
    use polywire_protocols::rocketmq::{Frame, ResponseCode, RocketmqProtocol};
    let setup: ServerSetup = toml::from_str(
        r#"
        listen = ["127.0.0.1:0"]

        [shared]
        detect_timeout = "2s"
        http2 = {}
        websocket = { path = "/calls" }

        [defaults]
        max_in_flight = 64

        [protocols.rocketmq-remoting]
        listen = ["127.0.0.1:0"]
        server = { pool_size = 4, idle_timeout = "30s" }
        "#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let multi = setup.multi_server();
    let native = setup.server(NativeProtocol);
    assert_eq!(native.config().max_in_flight, 64, "the defaults");
    polywire_protocols::native::serve_basic_now(&native, std::sync::Arc::new(BasicEcho));
    multi.add(native).unwrap();
    let rmq = setup.server(RocketmqProtocol);
    assert_eq!(rmq.config().pool_size, 4, "its own settings");
    assert_eq!(rmq.config().idle_timeout, Duration::from_secs(30));
    rmq.register_processor(2001, |_ctx, mut req: Frame| async move {
        req.header.code = ResponseCode::Success.to_repr();
        Ok::<_, polywire::rt::ProcessError>(req)
    });
    multi.add(rmq).unwrap();
    let bound = setup.bind(&multi).await.unwrap();
    let addr_of = |what: &str| {
        bound
            .iter()
            .find(|(w, _)| w == what)
            .map(|(_, a)| a.to_string())
            .unwrap()
    };
    let (shared, own) = (addr_of("shared"), addr_of("rocketmq-remoting"));
    assert_ne!(shared, own);
    // Native on the shared port, over the WebSocket path the file set.
    let client = RemotingClient::new(
        NativeProtocol,
        ClientConfig {
            transport: Transport::WebSocket {
                path: "/calls".into(),
            },
            ..ClientConfig::default()
        },
    );
    let reply = BasicClient::new(client, shared.clone())
        .echo(EchoRequest {
            body: Bytes::from_static(b"hi"),
        })
        .await
        .unwrap();
    assert_eq!(&reply.body[..], b"hi");
    // RocketMQ on its own port and on the shared one.
    for addr in [&own, &shared] {
        let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
        let mut req = RocketmqProtocol.request(2001);
        req.body = Bytes::from_static(b"x");
        let resp = client
            .invoke(addr, req, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(&resp.body[..], b"x");
    }
    multi.shutdown().await;

    // A protocol id the program does not register is an error that names it.
    let typo: ServerSetup =
        toml::from_str("[protocols.rocketmq-remotin]\nlisten = [\"127.0.0.1:0\"]").unwrap();
    let multi = typo.multi_server();
    let e = typo.bind(&multi).await.unwrap_err().to_string();
    assert!(e.contains("\"rocketmq-remotin\""), "{e}");
    multi.shutdown().await;
}
