//! The typed MQTT client generated from `protocols/wire/mqtt.wire`: connect, subscribe,
//! publish at QoS 0, 1 and 2, receive, unsubscribe, disconnect, against any broker.
//!
//! ```text
//! cargo run --release --example mqtt_client -- --broker 127.0.0.1:1883 [--v311]
//! ```

use polywire::rt::MessageConfig;
use polywire_protocols::mqtt::{
    Client, Connect, Disconnect, Publish, QoS, Subscribe, Subscription, Unsubscribe,
};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut broker = "127.0.0.1:1883".to_string();
    let mut level = 5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--broker" => broker = args.next().unwrap_or(broker),
            "--v311" => level = 4,
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: mqtt_client [--broker ADDR] [--v311]"
                );
                std::process::exit(2);
            }
        }
    }
    let hello = Connect {
        protocol_name: "MQTT".into(),
        protocol_level: level,
        clean_start: true,
        keep_alive: 30,
        client_id: format!("polywire-example-{}", std::process::id()).into(),
        ..Default::default()
    };
    let (client, ack) = Client::connect(broker.as_str(), hello, MessageConfig::default()).await?;
    println!(
        "connected to {broker} (MQTT level {level}): CONNACK code {}",
        ack.code
    );

    let granted = client
        .subscribe(Subscribe {
            subscriptions: vec![Subscription {
                filter: "polywire/example/+".into(),
                max_qos: QoS::ExactlyOnce,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await?;
    println!("subscribed to polywire/example/+: {:?}", granted.codes);

    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let topic = format!("polywire/example/{i}");
        // The client picks the packet identifier and completes the QoS's exchange.
        let end = client
            .publish(Publish {
                qos,
                topic: topic.as_str().into(),
                payload: format!("hello at {qos:?}").into_bytes().into(),
                ..Default::default()
            })
            .await?;
        println!("published to {topic} at {qos:?}: ended with {end:?}");
    }
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(5), client.next_push()).await {
            Ok(Some(m)) => println!(
                "received {} at {:?}: {}",
                m.topic,
                m.qos,
                String::from_utf8_lossy(&m.payload)
            ),
            Ok(None) => return Err("the broker closed the connection".into()),
            Err(_) => return Err("no message within 5 s".into()),
        }
    }
    client
        .unsubscribe(Unsubscribe {
            filters: vec!["polywire/example/+".into()],
            ..Default::default()
        })
        .await?;
    client.disconnect(Disconnect::default()).await?;
    println!("disconnected");
    Ok(())
}
