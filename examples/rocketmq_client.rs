//! Sends a few typed RocketMQ requests to a server (e.g. `rocketmq_echo`, or a real name
//! server for the route request): an echo (2001), GET_ROUTEINFO_BY_TOPIC, a oneway, and an
//! unknown code, in the JSON header encoding or with `--binary` the ROCKETMQ one.
//!
//! `cargo run --release --example rocketmq_client -- --addr 127.0.0.1:9876 [--binary] [--topic T]`

use polywire::rt::{ClientConfig, RemotingClient};
use polywire::{OrderedMap, Protocol, Str};
use polywire_protocols::rocketmq::*;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut addr, mut binary, mut topic) =
        ("127.0.0.1:9876".to_string(), false, "TopicTest".to_string());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--addr" => addr = args.next().ok_or("--addr needs an address")?,
            "--binary" => binary = true,
            "--topic" => topic = args.next().ok_or("--topic needs a name")?,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    client.add_hook(HeaderEncoding(if binary { 1 } else { 0 }));
    let t = Duration::from_secs(3);

    let mut echo = RocketmqProtocol.request(2001);
    let mut ext = OrderedMap::new();
    ext.insert(Str::from("hello"), Str::from("world"));
    echo.header.ext_fields = Some(ext);
    echo.body = "ping".into();
    let r = client.invoke(&addr, echo, t).await?;
    println!(
        "echo (2001): code {} extFields {:?} body {:?} [{} header]",
        r.header.code,
        r.header.ext_fields,
        r.body,
        if r.serialize == 1 { "ROCKETMQ" } else { "JSON" }
    );

    let names = NameServerClient::new(client.clone(), addr.as_str());
    let route = names
        .get_routeinfo_by_topic(GetRouteinfoByTopicRequest {
            header: GetRouteInfoRequestHeader {
                topic: Str::from(topic.as_str()),
                ..Default::default()
            },
        })
        .await?;
    println!(
        "GET_ROUTEINFO_BY_TOPIC {topic}: {}",
        String::from_utf8_lossy(&route.body)
    );

    client
        .invoke_oneway(&addr, RocketmqProtocol.request(2001))
        .await?;
    println!("oneway 2001 sent");

    let r = client
        .invoke(&addr, RocketmqProtocol.request(99999), t)
        .await?;
    println!(
        "unknown code 99999: code {} remark {:?}",
        r.header.code, r.header.remark
    );
    Ok(())
}
