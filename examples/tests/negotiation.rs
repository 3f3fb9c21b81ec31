//! Negotiation policies: explicit, automatic (the highest common version, a downgrade
//! included) and fallback (the next transport or version when one is refused), through
//! `RemotingClientFactory`.

use bytes::Bytes;
use polywire::Protocol as _;
use polywire::rt::{
    Attempt, ClientFactoryConfig, MultiServer, MultiServerConfig, Negotiation, RemotingClient,
    RemotingClientFactory, RemotingError, ServerConfig, Transport,
};
use polywire::rt::{h2::H2Settings, ws::WsSettings};
use polywire_examples::echo;
use polywire_protocols::native::{BasicClient, EchoRequest, NativeProtocol};
use polywire_protocols::rocketmq::RocketmqProtocol;
use std::time::Duration;

/// Native speaking `versions` and RocketMQ on one port, with WebSocket and HTTP/2 as asked.
async fn start(versions: Option<(u32, u32)>, ws: bool, h2: bool) -> (MultiServer, String) {
    let multi = MultiServer::new(MultiServerConfig {
        websocket: ws.then(WsSettings::default),
        http2: h2.then(H2Settings::default),
        ..MultiServerConfig::default()
    });
    let native = echo::native(ServerConfig {
        versions,
        ..ServerConfig::default()
    });
    multi.add(native).unwrap();
    multi.add(echo::rocketmq(ServerConfig::default())).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    (multi, addr)
}

/// An echo through `client`; then what its connection negotiated: (transport, version).
async fn echo(
    client: &RemotingClient<NativeProtocol>,
    addr: &str,
) -> Result<(&'static str, Option<u32>), RemotingError> {
    let basic = BasicClient::new(client.clone(), addr.to_string());
    let reply = basic
        .echo(EchoRequest {
            body: Bytes::from_static(b"hi"),
        })
        .await?;
    assert_eq!(&reply.body[..], b"hi");
    let conn = client.connection(addr).await?;
    Ok((
        conn.transport().as_str(),
        conn.negotiated().map(|n| n.version),
    ))
}

fn native(negotiation: Negotiation) -> RemotingClient<NativeProtocol> {
    RemotingClientFactory::default()
        .builder(NativeProtocol)
        .negotiation(negotiation)
        .build()
}

fn automatic(transport: Transport) -> Negotiation {
    Negotiation::Automatic {
        transport,
        tls: false,
    }
}

#[tokio::test]
async fn automatic_picks_the_highest_common_version_and_downgrades() {
    let (multi, addr) = start(None, true, true).await;
    for transport in [Transport::Tcp, Transport::websocket(), Transport::Http2] {
        let client = native(automatic(transport.clone()));
        let name = transport.kind(false).as_str();
        assert_eq!(echo(&client, &addr).await.unwrap(), (name, Some(3)));
    }
    multi.shutdown().await;
    // A server that speaks only 1..=2: the same client settles on 2, on every transport.
    let (multi, addr) = start(Some((1, 2)), true, true).await;
    for transport in [Transport::Tcp, Transport::websocket(), Transport::Http2] {
        let client = native(automatic(transport.clone()));
        let name = transport.kind(false).as_str();
        assert_eq!(echo(&client, &addr).await.unwrap(), (name, Some(2)));
    }
    multi.shutdown().await;
}

#[tokio::test]
async fn explicit_fixes_the_version_or_fails() {
    let (multi, addr) = start(Some((1, 2)), true, true).await;
    let v1 = native(Negotiation::Explicit(
        Attempt::new(Transport::Tcp).version(1),
    ));
    assert_eq!(echo(&v1, &addr).await.unwrap(), ("tcp", Some(1)));
    for transport in [Transport::Tcp, Transport::websocket(), Transport::Http2] {
        let v3 = native(Negotiation::Explicit(Attempt::new(transport).version(3)));
        match echo(&v3, &addr).await {
            Err(RemotingError::Handshake { reason, .. }) => {
                assert!(reason.contains("1..=2"), "{reason}")
            }
            other => panic!("version 3 is refused, not {other:?}"),
        }
    }
    multi.shutdown().await;
}

#[tokio::test]
async fn fallback_takes_the_next_version_when_one_is_refused() {
    let (multi, addr) = start(Some((1, 2)), false, false).await;
    let client = native(Negotiation::Fallback(vec![
        Attempt::new(Transport::Tcp).version(3),
        Attempt::new(Transport::Tcp).version(2),
    ]));
    assert_eq!(echo(&client, &addr).await.unwrap(), ("tcp", Some(2)));
    multi.shutdown().await;
}

#[tokio::test]
async fn fallback_takes_the_next_transport_when_one_is_refused() {
    let attempts = || {
        Negotiation::Fallback(vec![
            Attempt::new(Transport::Http2),
            Attempt::new(Transport::websocket()),
            Attempt::new(Transport::Tcp),
        ])
    };
    // Neither HTTP/2 nor WebSocket on this port: both are refused (closed as traffic no
    // protocol claims), and TCP is used.
    let (multi, addr) = start(None, false, false).await;
    assert_eq!(
        echo(&native(attempts()), &addr).await.unwrap(),
        ("tcp", Some(3))
    );
    assert_eq!(multi.unclaimed(), 2, "the HTTP/2 and WebSocket attempts");
    multi.shutdown().await;
    // WebSocket only: the second choice.
    let (multi, addr) = start(None, true, false).await;
    assert_eq!(
        echo(&native(attempts()), &addr).await.unwrap(),
        ("ws", Some(3))
    );
    multi.shutdown().await;
    // TLS first, on a port without TLS: plaintext next.
    let (multi, addr) = start(None, false, false).await;
    let (_, client_tls) = polywire_examples::self_signed::localhost().unwrap();
    let client = RemotingClientFactory::default()
        .with_tls(client_tls)
        .builder(NativeProtocol)
        .negotiation(Negotiation::Fallback(vec![
            Attempt::new(Transport::Tcp).tls(),
            Attempt::new(Transport::Tcp),
        ]))
        .build();
    assert_eq!(echo(&client, &addr).await.unwrap(), ("tcp", Some(3)));
    multi.shutdown().await;
    // Nothing works: the error names every attempt.
    let (multi, addr) = start(None, false, false).await;
    let client = native(Negotiation::Fallback(vec![
        Attempt::new(Transport::Http2),
        Attempt::new(Transport::websocket()),
    ]));
    let err = echo(&client, &addr).await.unwrap_err().to_string();
    assert!(err.contains("h2c: ") && err.contains("ws: "), "{err}");
    multi.shutdown().await;
}

#[tokio::test]
async fn the_factory_makes_clients_from_a_configuration_file() {
    let (multi, addr) = start(Some((1, 2)), true, false).await;
    let config: ClientFactoryConfig = toml::from_str(
        r#"
        [defaults]
        connect_timeout = "2s"

        [protocols.polywire-native]
        fallback = [
            { transport = "http2" },
            { transport = { websocket = { path = "/polywire" } }, versions = [3, 3] },
            { transport = { websocket = { path = "/polywire" } } },
        ]

        [protocols.rocketmq-remoting]
        fallback = [{ transport = "http2" }, { transport = "tcp" }]
        "#,
    )
    .unwrap();
    let factory = RemotingClientFactory::new(config);
    assert_eq!(
        factory.config_for("anything else").connect_timeout,
        Duration::from_secs(2)
    );
    // Native: HTTP/2 is refused, WebSocket at version 3 is refused, WebSocket at the
    // highest common version (2) is taken.
    let client = factory.create_client::<NativeProtocol>();
    assert_eq!(echo(&client, &addr).await.unwrap(), ("ws", Some(2)));
    // RocketMQ has no handshake: it negotiates by transport alone.
    let client = factory.create_client::<RocketmqProtocol>();
    let mut req = RocketmqProtocol.request(2001);
    req.body = Bytes::from_static(b"x");
    let resp = client
        .invoke(&addr, req, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(&resp.body[..], b"x");
    let conn = client.connection(&addr).await.unwrap();
    assert_eq!(
        (conn.transport().as_str(), conn.negotiated()),
        ("tcp", None)
    );
    multi.shutdown().await;
}
