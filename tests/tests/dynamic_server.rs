//! Protocols loaded at run time (`polywire_dynamic::DynProtocol`) served and called by the
//! runtime: a RocketMQ server built from `rocketmq.wire` while the program runs sits on a
//! `MultiServer`'s shared port beside the generated native server and answers the
//! generated RocketMQ client in both header encodings; a client loaded the same way calls
//! the generated RocketMQ server; an edited `.wire` file is loaded again and `replace`d
//! while the server runs, and new connections get the new definition.

use polywire::rt::{
    ClientConfig, Immediate, MultiServer, MultiServerConfig, ProcessError, RemotingClient,
    RemotingServer, RequestContext, ServerConfig,
};
use polywire::{OrderedMap, Protocol, RemotingFrame, Str};
use polywire_dynamic::{DynFrame, DynProtocol, Value};
use polywire_protocols::rocketmq::{Frame, HeaderEncoding, RocketmqProtocol};
use std::path::{Path, PathBuf};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn wire(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocols/wire")
        .join(name)
}

/// A RocketMQ server from the `.wire` file at `dir`: code 2001 echoes the body with
/// `remark` set to `tag`.
fn rocketmq_server(dir: &Path, tag: &'static str) -> RemotingServer<DynProtocol> {
    let proto = DynProtocol::load(dir.join("rocketmq.wire")).expect("loads");
    let server = RemotingServer::new(proto, ServerConfig::default());
    server.register_processor(
        2001,
        Immediate(move |_ctx: &RequestContext, mut req: DynFrame| {
            req.set_code(0);
            req.set(&["header", "remark"], Value::Str(Str::from(tag)));
            Ok::<_, ProcessError>(req)
        }),
    );
    server
}

/// The bundled RocketMQ files copied to a directory of the test's own, to be edited.
fn copy_wire(case: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("polywire-dynserver-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["rocketmq.wire", "rocketmq_headers.wire"] {
        std::fs::copy(wire(f), dir.join(f)).unwrap();
    }
    dir
}

fn echo_request(body: &str) -> Frame {
    let mut f = RocketmqProtocol.request(2001);
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("hello"), Str::from("world"));
    f.header.ext_fields = Some(ext);
    f.body = body.to_string().into();
    f
}

#[tokio::test]
async fn a_server_loaded_at_run_time_answers_the_generated_client_beside_native() {
    let dir = copy_wire("serve");
    let multi = MultiServer::new(MultiServerConfig::default());
    let native = RemotingServer::new(
        polywire_protocols::native::NativeProtocol,
        ServerConfig::default(),
    );
    polywire_protocols::native::serve_basic_now(
        &native,
        std::sync::Arc::new(polywire_protocols::native::BasicEcho),
    );
    multi.add(native).unwrap();
    multi.add(rocketmq_server(&dir, "v1")).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();

    for encoding in [0u8, 1] {
        let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
        client.add_hook(HeaderEncoding(encoding));
        let r = client.invoke(&addr, echo_request("ping"), T).await.unwrap();
        assert_eq!(r.header.code, 0, "header encoding {encoding}");
        assert_eq!(r.header.remark.as_deref(), Some("v1"));
        assert_eq!(&r.body[..], b"ping");
        assert_eq!(
            r.serialize, encoding,
            "the response keeps the request's header encoding"
        );
        assert_eq!(
            r.header
                .ext_fields
                .as_ref()
                .and_then(|m| m.get("hello"))
                .map(|s| s.as_str()),
            Some("world")
        );
        // An unknown code (one the binary header's i16 holds): RocketMQ's own answer,
        // from the file's `responses`.
        let r = client
            .invoke(&addr, RocketmqProtocol.request(9999), T)
            .await
            .unwrap();
        assert_eq!(r.header.code, 3);
        assert_eq!(
            r.header.remark.as_deref(),
            Some(" request type 9999 not supported")
        );
    }
    // Native on the same port, with its handshake, through its generated client.
    let native = polywire_protocols::native::BasicClient::new(
        RemotingClient::new(
            polywire_protocols::native::NativeProtocol,
            ClientConfig::default(),
        ),
        addr.clone(),
    );
    let r = native
        .echo(polywire_protocols::native::EchoRequest { body: "hi".into() })
        .await
        .unwrap();
    assert_eq!(&r.body[..], b"hi");
    multi.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_edited_wire_file_replaces_the_running_protocol_for_new_connections() {
    let dir = copy_wire("reload");
    let multi = MultiServer::new(MultiServerConfig::default());
    multi.add(rocketmq_server(&dir, "v1")).unwrap();
    let addr = multi.bind("127.0.0.1:0").await.unwrap().to_string();
    let big = "x".repeat(4096);
    let old = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    let r = old.invoke(&addr, echo_request(&big), T).await.unwrap();
    assert_eq!(
        (r.header.remark.as_deref(), r.body.len()),
        (Some("v1"), 4096)
    );

    // The file changes: frames of at most 1 KiB. Loaded again and put in place.
    let path = dir.join("rocketmq.wire");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("max_frame_len = 16777216", "max_frame_len = 1024");
    assert_ne!(edited, text, "the limit is in the file");
    std::fs::write(&path, edited).unwrap();
    let replaced = multi.replace(rocketmq_server(&dir, "v2")).unwrap();
    assert!(replaced.is_some(), "the old server is handed back");

    // A new connection gets the new definition: small frames answered by v2, a frame over
    // the new limit refused.
    let new = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    let r = new.invoke(&addr, echo_request("small"), T).await.unwrap();
    assert_eq!(r.header.remark.as_deref(), Some("v2"));
    assert!(
        new.invoke(&addr, echo_request(&big), T).await.is_err(),
        "over the new limit"
    );
    // The connection opened before stays with v1.
    let r = old.invoke(&addr, echo_request(&big), T).await.unwrap();
    assert_eq!(r.header.remark.as_deref(), Some("v1"));
    multi.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_client_loaded_at_run_time_calls_the_generated_server() {
    let (server, addr) = polywire_examples::rocketmq_echo::serve("127.0.0.1:0")
        .await
        .unwrap();
    let proto = DynProtocol::load(wire("rocketmq.wire")).unwrap();
    let client = RemotingClient::new(proto.clone(), ClientConfig::default());
    let mut req = proto.request(polywire_examples::rocketmq_echo::ECHO);
    req.set(&["body"], Value::Bytes("dynamic".into()));
    let r = client.invoke(&addr.to_string(), req, T).await.unwrap();
    assert_eq!(r.code(), 0);
    assert_eq!(r.get(&["body"]), Some(&Value::Bytes("dynamic".into())));
    let r = client
        .invoke(&addr.to_string(), proto.request(99999), T)
        .await
        .unwrap();
    assert_eq!(r.code(), 3);
    assert_eq!(
        r.get(&["header", "remark"]),
        Some(&Value::Str(Str::from(" request type 99999 not supported")))
    );
    server.shutdown().await;
}

#[test]
fn protocols_the_remoting_runtime_cannot_serve_are_refused_with_a_reason() {
    let e = DynProtocol::load(wire("mqtt.wire")).unwrap_err();
    assert!(e.0.contains("MessageServer"), "{e}");
}

#[tokio::test]
async fn native_with_its_handshake_both_ways() {
    // A native server loaded at run time, called by the generated client (its handshake,
    // then calls).
    let proto = DynProtocol::load(wire("native.wire")).unwrap();
    let server = RemotingServer::new(proto.clone(), ServerConfig::default());
    server.register_processor(
        1,
        Immediate(|_ctx: &RequestContext, mut req: DynFrame| {
            req.set_code(0);
            Ok::<_, ProcessError>(req)
        }),
    );
    let addr = server.bind("127.0.0.1:0").await.unwrap().to_string();
    let native = polywire_protocols::native::BasicClient::new(
        RemotingClient::new(
            polywire_protocols::native::NativeProtocol,
            ClientConfig::default(),
        ),
        addr.clone(),
    );
    let r = native
        .echo(polywire_protocols::native::EchoRequest { body: "hi".into() })
        .await
        .unwrap();
    assert_eq!(&r.body[..], b"hi");
    server.shutdown().await;

    // A client loaded at run time against the generated native server.
    let generated = RemotingServer::new(
        polywire_protocols::native::NativeProtocol,
        ServerConfig::default(),
    );
    polywire_protocols::native::serve_basic_now(
        &generated,
        std::sync::Arc::new(polywire_protocols::native::BasicEcho),
    );
    let addr = generated.bind("127.0.0.1:0").await.unwrap().to_string();
    let client = RemotingClient::new(proto.clone(), ClientConfig::default());
    let mut req = proto.request(1);
    req.set(&["body"], Value::Bytes("dynamic".into()));
    let r = client.invoke(&addr, req, T).await.unwrap();
    assert_eq!(r.code(), 0);
    assert_eq!(r.get(&["body"]), Some(&Value::Bytes("dynamic".into())));
    // An unknown code: native's own status and text.
    let r = client.invoke(&addr, proto.request(777), T).await.unwrap();
    assert_eq!(r.code(), 2, "NOT_SUPPORTED");
    generated.shutdown().await;
}
