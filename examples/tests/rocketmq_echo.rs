//! The RocketMQ echo server of `examples/rocketmq_echo.rs` against the typed client, over
//! loopback, in both header encodings; and raw Java request bytes from the shared vectors
//! answered as the Java server answers them.

use bytes::BytesMut;
use polywire::rt::{ClientConfig, RemotingClient, RemotingError};
use polywire::{Codec, OrderedMap, Protocol, Str};
use polywire_examples::rocketmq_echo::{ECHO, serve};
use polywire_protocols::rocketmq::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T: Duration = Duration::from_secs(5);

fn client(encoding: u8) -> RemotingClient<RocketmqProtocol> {
    let c = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    c.add_hook(HeaderEncoding(encoding));
    c
}

fn echo_request(i: u32) -> Frame {
    let mut f = RocketmqProtocol.request(ECHO);
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("i"), Str::from(i.to_string()));
    f.header.ext_fields = Some(ext);
    f.body = format!("body {i}").into();
    f
}

async fn exercise(encoding: u8) {
    let (server, addr) = serve("127.0.0.1:0").await.unwrap();
    let a = addr.to_string();
    let c = client(encoding);
    // 1000 concurrent echoes, each matched to its own request.
    let calls: Vec<_> = (0..1000u32)
        .map(|i| {
            let (c, a) = (c.clone(), a.clone());
            tokio::spawn(async move {
                let r = c.invoke(&a, echo_request(i), T).await.unwrap();
                assert_eq!(r.serialize, encoding, "answered in the request's encoding");
                assert_eq!(r.header.code, ResponseCode::Success.to_repr());
                assert!(r.header.flag.contains(RpcFlag::RESPONSE));
                assert_eq!(r.body, format!("body {i}").as_bytes());
                let i_back = r
                    .header
                    .ext_fields
                    .as_ref()
                    .and_then(|m| m.get("i"))
                    .map(|v| v.to_string());
                assert_eq!(i_back, Some(i.to_string()));
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    // Oneway requests get no response; the server counts them.
    for i in 0..10 {
        c.invoke_oneway(&a, echo_request(i)).await.unwrap();
    }
    // Typed route request.
    let names = NameServerClient::new(c.clone(), a.as_str());
    let route = names
        .get_routeinfo_by_topic(GetRouteinfoByTopicRequest {
            header: GetRouteInfoRequestHeader {
                topic: Str::from("TopicTest"),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&route.body).unwrap();
    assert_eq!(body["brokerDatas"][0]["brokerAddrs"]["0"], a.as_str());
    // Unknown code: REQUEST_CODE_NOT_SUPPORTED with Java's remark, leading space included.
    let r = c
        .invoke(&a, RocketmqProtocol.request(10000), T)
        .await
        .unwrap();
    assert_eq!(r.header.code, 3);
    assert_eq!(
        r.header.remark.as_deref(),
        Some(" request type 10000 not supported")
    );
    // A typed call the server does not handle reports the remote status.
    let broker = BrokerClient::new(c.clone(), a.as_str());
    match broker
        .update_and_create_topic(UpdateAndCreateTopicRequest::default())
        .await
    {
        Err(RemotingError::Remote { code: 3, .. }) => {}
        other => panic!("expected REQUEST_CODE_NOT_SUPPORTED, got {other:?}"),
    }
    for _ in 0..100 {
        if server.metrics().requests >= 1013 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.metrics().requests,
        1013,
        "1000 echoes, 10 oneway, route, unknown, typed"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_headers() {
    exercise(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_headers() {
    exercise(1).await;
}

fn vector(file: &str, id: &str) -> Option<serde_json::Value> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/rocketmq");
    let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
        eprintln!("!!!!!!!! shared vectors missing: raw Java request test SKIPPED");
        return None;
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .cloned()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Java's request bytes in, and the response means what Java's response means.
#[tokio::test]
async fn java_request_bytes_get_java_answers() {
    let (server, addr) = serve("127.0.0.1:0").await.unwrap();
    for (req_id, resp_id) in [
        ("json-unknown-code-request", "json-unknown-code-response"),
        ("rmq-unknown-code-request", "rmq-unknown-code-response"),
    ] {
        let (Some(req), Some(want)) = (
            vector("frames.json", req_id),
            vector("frames.json", resp_id),
        ) else {
            return;
        };
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(&hex(req["frame_hex"].as_str().unwrap()))
            .await
            .unwrap();
        let mut buf = BytesMut::new();
        let mut codec = FrameCodec::new();
        let resp = loop {
            if let Some(f) = codec.decode(&mut buf).unwrap() {
                break f;
            }
            let n = tokio::time::timeout(T, s.read_buf(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "{req_id}: connection closed");
        };
        let w = &want["decoded"];
        assert_eq!(
            i64::from(resp.header.code),
            w["code"].as_i64().unwrap(),
            "{req_id}"
        );
        assert_eq!(
            i64::from(resp.header.flag.bits()),
            w["flag"].as_i64().unwrap(),
            "{req_id}"
        );
        assert_eq!(
            i64::from(resp.header.opaque),
            w["opaque"].as_i64().unwrap(),
            "{req_id}"
        );
        assert_eq!(
            resp.header.remark.as_deref(),
            w["remark"].as_str(),
            "{req_id}"
        );
        assert_eq!(
            resp.header.ext_fields.is_none(),
            w["ext_fields"].is_null(),
            "{req_id}"
        );
        let serialize = if want["serialize_type"] == "JSON" {
            0
        } else {
            1
        };
        assert_eq!(
            resp.serialize, serialize,
            "{req_id}: answered in the request's encoding"
        );
    }
    server.shutdown().await;
}
