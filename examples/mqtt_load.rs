//! A load generator for any MQTT broker, on the codec generated from `mqtt.wire` (the same
//! tool for every broker it compares):
//!
//! - `fanout`: `--subs` subscribers on one topic at QoS 0, one publisher sends `--msgs`
//!   messages; prints the messages delivered per second (all subscribers together);
//! - `qos1`: `--conns` publishers each send QoS 1 messages one at a time for `--secs`
//!   seconds; prints PUBLISH/PUBACK round trips per second;
//! - `idle`: opens `--conns` connections that only CONNECT, then prints the broker's
//!   resident memory per connection (`--pid` names the broker's process; Linux only).
//!
//! ```text
//! cargo run --release --example mqtt_load -- --broker 127.0.0.1:1883 fanout --subs 10 --msgs 100000
//! ```

use bytes::BytesMut;
use polywire::Codec;
use polywire_protocols::mqtt::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One MQTT 3.1.1 connection over the codec.
struct Conn {
    io: TcpStream,
    codec: PacketCodec,
    buf: BytesMut,
    out: BytesMut,
}

impl Conn {
    async fn open(addr: &str, id: &str) -> std::io::Result<Conn> {
        let io = TcpStream::connect(addr).await?;
        io.set_nodelay(true)?;
        let mut c = Conn {
            io,
            codec: PacketCodec::new(),
            buf: BytesMut::with_capacity(64 * 1024),
            out: BytesMut::with_capacity(64 * 1024),
        };
        c.codec.set_version(4);
        c.queue(Packet::Connect(Connect {
            protocol_name: "MQTT".into(),
            protocol_level: 4,
            clean_start: true,
            keep_alive: 0,
            client_id: id.to_string().into(),
            ..Default::default()
        }));
        c.flush().await?;
        match c.recv().await? {
            Packet::ConnAck(a) if a.code == 0 => Ok(c),
            other => Err(std::io::Error::other(format!("{id}: {other:?}"))),
        }
    }

    fn queue(&mut self, p: Packet) {
        self.codec.encode(&p, &mut self.out).expect("encodes");
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.io.write_all(&self.out).await?;
        self.out.clear();
        Ok(())
    }

    async fn recv(&mut self) -> std::io::Result<Packet> {
        loop {
            if let Some(p) = self
                .codec
                .decode(&mut self.buf)
                .map_err(std::io::Error::other)?
            {
                return Ok(p);
            }
            if self.io.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

fn publish(topic: &str, qos: QoS, id: Option<u16>, payload: &[u8]) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: topic.into(),
        packet_id: id,
        payload: payload.to_vec().into(),
        ..Default::default()
    })
}

async fn subscribe(c: &mut Conn, topic: &str, qos: QoS) -> std::io::Result<()> {
    c.queue(Packet::Subscribe(Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription {
            filter: topic.into(),
            max_qos: qos,
            ..Default::default()
        }],
        ..Default::default()
    }));
    c.flush().await?;
    match c.recv().await? {
        Packet::SubAck(_) => Ok(()),
        other => Err(std::io::Error::other(format!("{other:?}"))),
    }
}

async fn fanout(addr: &str, subs: usize, msgs: u64, size: usize) -> std::io::Result<()> {
    let topic = format!("load/fanout/{}", std::process::id());
    let received = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..subs {
        let mut c = Conn::open(addr, &format!("load-sub-{i}")).await?;
        subscribe(&mut c, &topic, QoS::AtMostOnce).await?;
        let received = received.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while n < msgs {
                match c.recv().await {
                    Ok(Packet::Publish(_)) => {
                        n += 1;
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            n
        }));
    }
    let mut p = Conn::open(addr, "load-pub").await?;
    let payload = vec![b'x'; size];
    let start = Instant::now();
    let mut sent = 0;
    while sent < msgs {
        for _ in 0..64.min(msgs - sent) {
            p.queue(publish(&topic, QoS::AtMostOnce, None, &payload));
            sent += 1;
        }
        p.flush().await?;
    }
    let want = msgs * subs as u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while received.load(Ordering::Relaxed) < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = start.elapsed();
    let got = received.load(Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    println!(
        "fanout: {subs} subscribers x {msgs} messages of {size} B at QoS 0: {got} of {want} delivered in {:.3} s = {:.0} msg/s",
        took.as_secs_f64(),
        got as f64 / took.as_secs_f64()
    );
    Ok(())
}

async fn qos1(addr: &str, conns: usize, secs: u64, size: usize) -> std::io::Result<()> {
    let done = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..conns {
        let mut c = Conn::open(addr, &format!("load-q1-{i}")).await?;
        let done = done.clone();
        let topic = format!("load/qos1/{}/{i}", std::process::id());
        tasks.push(tokio::spawn(async move {
            let payload = vec![b'x'; size];
            let mut id: u16 = 0;
            while Instant::now() < end {
                id = id.wrapping_add(1).max(1);
                c.queue(publish(&topic, QoS::AtLeastOnce, Some(id), &payload));
                c.flush().await?;
                loop {
                    match c.recv().await? {
                        Packet::PubAck(a) if a.packet_id == id => break,
                        _ => {}
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, std::io::Error>(())
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.map_err(std::io::Error::other)??;
    }
    let took = start.elapsed();
    let n = done.load(Ordering::Relaxed);
    println!(
        "qos1: {conns} publishers, one PUBLISH in flight each, {size} B: {n} round trips in {:.3} s = {:.0} round trips/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    Ok(())
}

/// The resident memory of process `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn idle(addr: &str, conns: usize, pid: u32) -> std::io::Result<()> {
    let before = rss_kib(pid).ok_or_else(|| std::io::Error::other("no such process"))?;
    let mut open = Vec::with_capacity(conns);
    for i in 0..conns {
        open.push(Conn::open(addr, &format!("load-idle-{i}")).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid).ok_or_else(|| std::io::Error::other("no such process"))?;
    println!(
        "idle: {conns} connections: broker RSS {before} KiB -> {after} KiB = {:.2} KiB per connection",
        (after.saturating_sub(before)) as f64 / conns as f64
    );
    drop(open);
    Ok(())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut broker = "127.0.0.1:1883".to_string();
    let (mut mode, mut subs, mut msgs, mut conns, mut secs, mut size, mut pid) = (
        String::new(),
        10usize,
        100_000u64,
        10usize,
        5u64,
        16usize,
        0u32,
    );
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>| v.and_then(|v| v.parse::<u64>().ok());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--broker" => broker = args.next().unwrap_or(broker),
            "--subs" => subs = num(args.next()).unwrap_or(10) as usize,
            "--msgs" => msgs = num(args.next()).unwrap_or(msgs),
            "--conns" => conns = num(args.next()).unwrap_or(10) as usize,
            "--secs" => secs = num(args.next()).unwrap_or(secs),
            "--size" => size = num(args.next()).unwrap_or(16) as usize,
            "--pid" => pid = num(args.next()).unwrap_or(0) as u32,
            m @ ("fanout" | "qos1" | "idle") => mode = m.to_string(),
            other => {
                eprintln!(
                    "unknown argument {other:?}; usage: mqtt_load [--broker ADDR] (fanout [--subs N] [--msgs N] | qos1 [--conns N] [--secs S] | idle --pid PID [--conns N]) [--size B]"
                );
                std::process::exit(2);
            }
        }
    }
    match mode.as_str() {
        "fanout" => fanout(&broker, subs, msgs, size).await,
        "qos1" => qos1(&broker, conns, secs, size).await,
        "idle" => idle(&broker, conns, pid).await,
        _ => {
            eprintln!("name a mode: fanout, qos1 or idle");
            std::process::exit(2);
        }
    }
}
