//! Load tool: echo request/response over loopback, the hand-rolled pipelined floor against
//! polywire's native protocol, measured one after the other in one process with identical
//! parameters (see DESIGN.md, "What was measured on these machines").
//!
//! ```text
//! cargo run --profile perf --example load -- --conns 16 --inflight 64 --payload 1024 --secs 5
//! cargo run --profile perf --example load -- --conns 1 --inflight 1 --payload 1024   # latency
//! ```
//!
//! Options: `--conns N` (connections), `--inflight M` (requests in flight per connection),
//! `--payload B` (body bytes, at least 8), `--secs S` (measured seconds), `--warmup S`
//! (default 1), `--only floor,floor-wide,native,native-call,rocketmq,rocketmq-shared` (a
//! comma-separated subset of the designs; `floor-wide` is the floor with reads as large as
//! the runtime gives a busy connection, `native` the pipelined client API, `native-call`
//! one `invoke` future per call, `rocketmq` pipelined RocketMQ echo on a port of its own,
//! `rocketmq-shared` the same on a `MultiServer` port with three other protocols asked
//! first and WebSocket and HTTP/2 on, `rocketmq-shared-ws` and `rocketmq-shared-h2c` the
//! same over WebSocket and over HTTP/2), `--rt multi|current` (a one-worker multi-thread
//! runtime per side, the default, or a current-thread runtime on its own OS thread),
//! `--global-queue-interval N` (tokio's scheduler knob, for experiments), `--no-pin`,
//! `--stats` (per-side CPU time and context switches per request, and per-connection and
//! per-caller throughput spread) and `--connect N` (instead of throughput: connection
//! set-up, connect to first response, over N fresh connections per design, native and
//! RocketMQ each on a port of its own and on one `MultiServer` port, over TCP, TLS,
//! WebSocket and HTTP/2) and `--idle N` (instead of throughput: a server's resident memory
//! before, with N idle connections open and 5 s after they close, for the floor, native and
//! RocketMQ echo servers, each in a child process of its own; `--only` picks among them).
//!
//! ```text
//! cargo run --profile perf --example load -- --idle 10000
//! ```
//!
//! Server and client each run on their own runtime with one worker thread; when `taskset`
//! is installed (util-linux) the server's threads are pinned to CPU 0 and the client's to
//! CPU 1, as in "server and client pinned one core each" on a two-core machine. All traffic is on
//! 127.0.0.1 ephemeral ports; everything stops by itself after `warmup + secs`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use polywire::rt::h2::H2Settings;
use polywire::rt::ws::WsSettings;
use polywire::rt::{
    ClientConfig, MultiServer, MultiServerConfig, Payload, RemotingClient, RemotingServer, Request,
    ServerConfig, TlsMode, TlsSettings, Transport,
};
use polywire_examples::probes::{probe_a, probe_b};
use polywire_protocols::native::{
    BasicClient, BasicEcho, EchoRequest, EchoResponse, NativeProtocol, serve_basic_now,
};
use polywire_protocols::rocketmq::RocketmqProtocol;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{Semaphore, oneshot};

/// Frames per `write_all` in the floor client.
const BATCH: usize = 64;

// ---------------------------------------------------------------------------------------
// Arguments

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RtKind {
    Multi,
    Current,
}

#[derive(Debug, Clone)]
struct Args {
    conns: usize,
    inflight: usize,
    payload: usize,
    secs: f64,
    warmup: f64,
    only: Option<String>,
    rt: RtKind,
    global_queue_interval: Option<u32>,
    pin: bool,
    stats: bool,
    rounds: usize,
    /// `--connect N`: measure connection set-up over N fresh connections instead.
    connect: usize,
    /// `--idle N`: measure a server's memory with N idle connections instead.
    idle: usize,
    /// `--idle-serve DESIGN`: be the server process of an `--idle` run (internal).
    idle_serve: Option<String>,
}

/// Which native client API a run uses.
const DESIGNS: [&str; 8] = [
    "floor",
    "floor-wide",
    "native",
    "native-call",
    "rocketmq",
    "rocketmq-shared",
    "rocketmq-shared-ws",
    "rocketmq-shared-h2c",
];

/// How a floor sizes its reads: it reserves `reserve` bytes whenever less than `min_room`
/// is free after the unread bytes.
#[derive(Debug, Clone, Copy)]
struct ReadRoom {
    min_room: usize,
    reserve: usize,
}

/// The floor's reads: a 64 KiB buffer topped up when less than 4 KiB is left.
const FLOOR_READS: ReadRoom = ReadRoom {
    min_room: 4096,
    reserve: 64 * 1024,
};

/// `floor-wide`: reads as large as the runtime gives a busy connection (256 KiB, topped up
/// below 128 KiB), so that a whole window comes in one read.
const WIDE_READS: ReadRoom = ReadRoom {
    min_room: 128 * 1024,
    reserve: 256 * 1024,
};

fn usage() -> ! {
    eprintln!(
        "usage: load [--conns N] [--inflight M] [--payload BYTES] [--secs S] [--warmup S] \
         [--only floor,floor-wide,native,native-call,rocketmq,rocketmq-shared,rocketmq-shared-ws,rocketmq-shared-h2c] [--rounds N] [--rt multi|current] [--global-queue-interval N] [--no-pin] [--stats] [--connect N] [--idle N]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        conns: 16,
        inflight: 64,
        payload: 1024,
        secs: 5.0,
        warmup: 1.0,
        only: None,
        rt: RtKind::Multi,
        global_queue_interval: None,
        pin: true,
        stats: false,
        rounds: 1,
        connect: 0,
        idle: 0,
        idle_serve: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--conns" => a.conns = value().parse().unwrap_or_else(|_| usage()),
            "--inflight" => a.inflight = value().parse().unwrap_or_else(|_| usage()),
            "--payload" => a.payload = value().parse().unwrap_or_else(|_| usage()),
            "--secs" => a.secs = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => a.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--only" => {
                let v = value();
                if !v.split(',').all(|d| DESIGNS.contains(&d)) {
                    usage();
                }
                a.only = Some(v);
            }
            "--rt" => {
                a.rt = match value().as_str() {
                    "multi" => RtKind::Multi,
                    "current" => RtKind::Current,
                    _ => usage(),
                }
            }
            "--global-queue-interval" => {
                a.global_queue_interval = Some(value().parse().unwrap_or_else(|_| usage()))
            }
            "--rounds" => a.rounds = value().parse().unwrap_or_else(|_| usage()),
            "--connect" => a.connect = value().parse().unwrap_or_else(|_| usage()),
            "--idle" => a.idle = value().parse().unwrap_or_else(|_| usage()),
            "--idle-serve" => {
                let v = value();
                if !IDLE_DESIGNS.contains(&v.as_str()) {
                    usage();
                }
                a.idle_serve = Some(v);
            }
            "--no-pin" => a.pin = false,
            "--stats" => a.stats = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if a.conns == 0
        || a.rounds == 0
        || a.inflight == 0
        || a.payload < 8
        || a.secs.is_nan()
        || a.secs <= 0.0
        || a.warmup.is_nan()
        || a.warmup < 0.0
    {
        usage();
    }
    a
}

// ---------------------------------------------------------------------------------------
// Latency histogram: log-linear, 32 sub-buckets per power of two (about 3 % resolution).

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values up to 2^40 ns (about 18 minutes); larger ones land in the last bucket.
const MAX_EXP: u32 = 40;
const NBUCKETS: usize = ((MAX_EXP - SUB_BITS + 2) as usize) * SUB as usize;

#[derive(Clone)]
struct Histogram {
    counts: Vec<u32>,
    total: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: vec![0; NBUCKETS],
            total: 0,
        }
    }

    fn index(ns: u64) -> usize {
        if ns < SUB {
            return ns as usize;
        }
        let exp = 63 - ns.leading_zeros();
        if exp > MAX_EXP {
            return NBUCKETS - 1;
        }
        let sub = (ns >> (exp - SUB_BITS)) & (SUB - 1);
        ((exp - SUB_BITS + 1) as usize) * SUB as usize + sub as usize
    }

    /// The largest value that lands in bucket `i`.
    fn upper(i: usize) -> u64 {
        let (e, sub) = (i / SUB as usize, (i % SUB as usize) as u64);
        if e == 0 {
            return sub;
        }
        let exp = e as u32 + SUB_BITS - 1;
        ((SUB + sub + 1) << (exp - SUB_BITS)) - 1
    }

    fn record(&mut self, d: Duration) {
        let i = Self::index(d.as_nanos().min(u64::MAX as u128) as u64);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.total += 1;
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    /// The value below which `q` of the samples fall (to bucket precision).
    fn quantile(&self, q: f64) -> Duration {
        if self.total == 0 {
            return Duration::ZERO;
        }
        let target = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= target {
                return Duration::from_nanos(Self::upper(i));
            }
        }
        Duration::from_nanos(Self::upper(NBUCKETS - 1))
    }
}

// ---------------------------------------------------------------------------------------
// Measurement window and results

/// Warm-up ends at `start`, measuring ends at `end`; work stops being issued at `end`.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

/// What one task, connection or design measured.
struct Tally {
    hist: Histogram,
    errors: u64,
}

impl Tally {
    fn new() -> Self {
        Tally {
            hist: Histogram::new(),
            errors: 0,
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.hist.merge(&o.hist);
        self.errors += o.errors;
    }
}

struct Outcome {
    name: &'static str,
    rps: f64,
    tally: Tally,
    stats: Option<SideStats>,
    /// Calls completed in the window per connection, and per caller (native only).
    per_conn: Vec<u64>,
    per_caller: Vec<u64>,
}

fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 10.0 {
        format!("{us:.1}us")
    } else {
        format!("{us:.0}us")
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.tally.hist;
        write!(
            f,
            "{:<7} {:>10.0} req/s  p50 {:>7}  p99 {:>7}  p999 {:>7}  ({} samples, {} errors)",
            self.name,
            self.rps,
            us(h.quantile(0.5)),
            us(h.quantile(0.99)),
            us(h.quantile(0.999)),
            h.total,
            self.tally.errors
        )
    }
}

// ---------------------------------------------------------------------------------------
// Runtimes: one per side, one worker thread each

/// A runtime whose tasks run on exactly one worker thread named `name`.
struct Side {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Side {
    fn new(name: &'static str, kind: RtKind, global_queue_interval: Option<u32>) -> Side {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-main"))
            .spawn(move || {
                let mut b = match kind {
                    RtKind::Multi => {
                        let mut b = tokio::runtime::Builder::new_multi_thread();
                        b.worker_threads(1).thread_name(name);
                        b
                    }
                    RtKind::Current => tokio::runtime::Builder::new_current_thread(),
                };
                if let Some(n) = global_queue_interval {
                    b.global_queue_interval(n);
                }
                let rt: Runtime = b.enable_all().build().expect("runtime");
                handle_tx.send(rt.handle().clone()).expect("handle");
                // For a current-thread runtime this thread is the worker; for the
                // multi-thread one it only waits while the named worker runs the tasks.
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("thread");
        Side {
            handle: handle_rx.recv().expect("runtime handle"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Runs `fut` on this side and waits for its output from the calling (non-runtime)
    /// thread.
    fn run<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.blocking_recv()
            .expect("task on the side's runtime panicked")
    }

    /// Names of the threads that run this side's tasks.
    fn worker_comm(name: &str, kind: RtKind) -> String {
        match kind {
            RtKind::Multi => name.to_string(),
            RtKind::Current => format!("{name}-main"),
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Pins every thread of this process whose name is `name` or `name-main` to `cpu`, with
/// `taskset` (no unsafe code, no dependency). Returns false when that is not possible.
fn pin_threads(name: &str, cpu: usize) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    let main = format!("{name}-main");
    let mut pinned = false;
    for e in dir.flatten() {
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let comm = comm.trim_end();
        if comm != name && comm != main {
            continue;
        }
        let ok = std::process::Command::new("taskset")
            .args(["-p", "-c", &cpu.to_string()])
            .arg(e.file_name())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return false;
        }
        pinned = true;
    }
    pinned
}

// ---------------------------------------------------------------------------------------
// Per-thread counters from /proc (Linux): CPU time and context switches.

#[derive(Debug, Clone, Copy, Default)]
struct ThreadCounters {
    cpu_ns: u64,
    /// User and system time in clock ticks (`/proc/<tid>/stat` fields 14 and 15).
    user_ticks: u64,
    sys_ticks: u64,
    voluntary: u64,
    involuntary: u64,
}

fn thread_counters(comm: &str) -> ThreadCounters {
    let mut c = ThreadCounters::default();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return c;
    };
    for e in dir.flatten() {
        let p = e.path();
        let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        // comm is truncated to 15 bytes.
        if name.trim_end() != &comm[..comm.len().min(15)] {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(p.join("schedstat"))
            && let Some(ns) = s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        {
            c.cpu_ns += ns;
        }
        if let Ok(s) = std::fs::read_to_string(p.join("stat")) {
            // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
            let mut f = s.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace();
            let mut tick = |n| f.nth(n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            c.user_ticks += tick(11);
            c.sys_ticks += tick(0);
        }
        let status = std::fs::read_to_string(p.join("status")).unwrap_or_default();
        for line in status.lines() {
            let num = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            if line.starts_with("voluntary_ctxt_switches") {
                c.voluntary += num(line);
            } else if line.starts_with("nonvoluntary_ctxt_switches") {
                c.involuntary += num(line);
            }
        }
    }
    c
}

#[derive(Debug, Clone, Copy)]
struct SideStats {
    server: ThreadCounters,
    client: ThreadCounters,
}

struct StatsProbe {
    server: String,
    client: String,
    at_start: Option<(ThreadCounters, ThreadCounters)>,
}

impl StatsProbe {
    fn new(kind: RtKind) -> Self {
        StatsProbe {
            server: Side::worker_comm("lt-server", kind),
            client: Side::worker_comm("lt-client", kind),
            at_start: None,
        }
    }

    fn begin(&mut self) {
        self.at_start = Some((thread_counters(&self.server), thread_counters(&self.client)));
    }

    fn end(&self) -> Option<SideStats> {
        let (s0, c0) = self.at_start?;
        let (s1, c1) = (thread_counters(&self.server), thread_counters(&self.client));
        let d = |a: ThreadCounters, b: ThreadCounters| ThreadCounters {
            cpu_ns: b.cpu_ns.saturating_sub(a.cpu_ns),
            user_ticks: b.user_ticks.saturating_sub(a.user_ticks),
            sys_ticks: b.sys_ticks.saturating_sub(a.sys_ticks),
            voluntary: b.voluntary.saturating_sub(a.voluntary),
            involuntary: b.involuntary.saturating_sub(a.involuntary),
        };
        Some(SideStats {
            server: d(s0, s1),
            client: d(c0, c1),
        })
    }
}

fn print_stats(o: &Outcome, secs: f64) {
    let Some(s) = o.stats else { return };
    let reqs = (o.rps * secs).max(1.0);
    let line = |who: &str, c: ThreadCounters| {
        let ticks = (c.user_ticks + c.sys_ticks).max(1) as f64;
        format!(
            "{who} cpu {:.0}% {:.2}us/req ({:.0}% user), {:.3} sleeps/req, {} preempted",
            c.cpu_ns as f64 / 1e7 / secs,
            c.cpu_ns as f64 / 1e3 / reqs,
            100.0 * c.user_ticks as f64 / ticks,
            c.voluntary as f64 / reqs,
            c.involuntary
        )
    };
    println!(
        "        [{}; {}]",
        line("server", s.server),
        line("client", s.client)
    );
    let spread = |v: &[u64]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        match (v.first(), v.last()) {
            (Some(lo), Some(hi)) => format!(
                "min {:.0} / median {:.0} / max {:.0} req/s",
                *lo as f64 / secs,
                v[v.len() / 2] as f64 / secs,
                *hi as f64 / secs
            ),
            _ => "-".into(),
        }
    };
    print!("        [per connection {}", spread(&o.per_conn));
    if !o.per_caller.is_empty() {
        print!("; per caller {}", spread(&o.per_caller));
    }
    println!("]");
}

/// Waits until `window.start` on the calling thread and samples counters around the
/// measured window.
fn measure_counters(probe: &mut StatsProbe, window: Window, on: bool) -> Option<SideStats> {
    if !on {
        return None;
    }
    std::thread::sleep(window.start.saturating_duration_since(Instant::now()));
    probe.begin();
    std::thread::sleep(window.end.saturating_duration_since(Instant::now()));
    probe.end()
}

// ---------------------------------------------------------------------------------------
// 1. The hand-rolled pipelined floor

/// Echo server: reads whatever has arrived, copies every complete frame into one output
/// buffer and writes it with one `write_all` per read.
async fn floor_server(listener: TcpListener, room: ReadRoom) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut stream = stream;
            let mut buf = BytesMut::with_capacity(64 * 1024);
            let mut out = BytesMut::with_capacity(64 * 1024);
            loop {
                match stream.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                while buf.len() >= 4 {
                    let len = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes")) as usize;
                    if buf.len() < 4 + len {
                        buf.reserve(4 + len - buf.len());
                        break;
                    }
                    out.extend_from_slice(&buf[..4 + len]);
                    buf.advance(4 + len);
                }
                if !out.is_empty() {
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                }
                if buf.capacity() - buf.len() < room.min_room {
                    buf.reserve(room.reserve);
                }
            }
        });
    }
}

/// One floor connection: a writer that keeps `inflight` frames outstanding with a window of
/// permits and writes up to [`BATCH`] frames per `write_all`, and a reader that returns
/// permits. Each frame carries its send time (ns since `base`) in its first 8 bytes.
async fn floor_conn(
    addr: SocketAddr,
    room: ReadRoom,
    inflight: usize,
    payload: usize,
    base: Instant,
    window: Window,
) -> Tally {
    let stream = TcpStream::connect(addr).await.expect("connect (floor)");
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let permits = Arc::new(Semaphore::new(inflight));
    let filler = vec![0xA5u8; payload - 8];

    let writer = {
        let permits = permits.clone();
        tokio::spawn(async move {
            let mut out = BytesMut::with_capacity(BATCH * (payload + 4));
            while Instant::now() < window.end {
                let Ok(p) = permits.acquire().await else {
                    break;
                };
                p.forget();
                let extra = permits.available_permits().min(BATCH - 1);
                let n = 1 + match permits.try_acquire_many(extra as u32) {
                    Ok(p) if extra > 0 => {
                        p.forget();
                        extra
                    }
                    _ => 0,
                };
                let now = base.elapsed().as_nanos() as u64;
                for _ in 0..n {
                    out.put_u32(payload as u32);
                    out.put_u64(now);
                    out.extend_from_slice(&filler);
                }
                if wr.write_all(&out).await.is_err() {
                    break;
                }
                out.clear();
            }
            // Closing our side tells the server to finish; it closes after the last echo.
            let _ = wr.shutdown().await;
        })
    };

    let mut tally = Tally::new();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let now = Instant::now();
        let now_ns = now.duration_since(base).as_nanos() as u64;
        let mut done = 0;
        while buf.len() >= 4 {
            let len = u32::from_be_bytes(buf[..4].try_into().expect("4 bytes")) as usize;
            if buf.len() < 4 + len {
                buf.reserve(4 + len - buf.len());
                break;
            }
            if len == payload {
                let sent = u64::from_be_bytes(buf[4..12].try_into().expect("8 bytes"));
                if window.contains(now) {
                    tally
                        .hist
                        .record(Duration::from_nanos(now_ns.saturating_sub(sent)));
                }
            } else {
                tally.errors += 1;
            }
            buf.advance(4 + len);
            done += 1;
        }
        permits.add_permits(done);
        if buf.capacity() - buf.len() < room.min_room {
            buf.reserve(room.reserve);
        }
    }
    permits.close();
    let _ = writer.await;
    tally
}

/// Waits for every connection task on `client` and merges their tallies; also returns the
/// calls each completed in the window.
fn join_conns(client: &Side, tasks: Vec<tokio::task::JoinHandle<Tally>>) -> (Tally, Vec<u64>) {
    client.run(async move {
        let mut t = Tally::new();
        let mut per_conn = Vec::with_capacity(tasks.len());
        for h in tasks {
            let c = h.await.expect("connection task");
            per_conn.push(c.hist.total);
            t.merge(&c);
        }
        (t, per_conn)
    })
}

fn run_floor(
    a: &Args,
    client: &Side,
    server: &Side,
    probe: &mut StatsProbe,
    name: &'static str,
    room: ReadRoom,
) -> Outcome {
    let listener = server.run(async { TcpListener::bind("127.0.0.1:0").await.expect("bind") });
    let addr = listener.local_addr().expect("local addr");
    let accept = server.handle.spawn(floor_server(listener, room));

    let base = Instant::now();
    let start = base + Duration::from_secs_f64(a.warmup);
    let window = Window {
        start,
        end: start + Duration::from_secs_f64(a.secs),
    };
    let (conns, inflight, payload) = (a.conns, a.inflight, a.payload);
    let tasks = client.run(async move {
        (0..conns)
            .map(|_| tokio::spawn(floor_conn(addr, room, inflight, payload, base, window)))
            .collect::<Vec<_>>()
    });
    let stats = measure_counters(probe, window, a.stats);
    let (tally, per_conn) = join_conns(client, tasks);
    accept.abort();
    Outcome {
        name,
        rps: tally.hist.total as f64 / a.secs,
        tally,
        stats,
        per_conn,
        per_caller: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// 2. polywire native: RemotingServer + generated BasicNow service (answers at once), typed BasicClient

thread_local! {
    /// Latencies of the native callers, kept per thread: the client runtime has one worker,
    /// so every caller records into the same few cache lines (no per-call allocation, no
    /// lock), which keeps the tool's own cost per call to one clock read and one increment.
    static NATIVE_HIST: RefCell<Histogram> = RefCell::new(Histogram::new());
}

/// One caller: `echo` in a loop until the window ends. Returns (calls completed in the
/// window, errors).
async fn native_caller(basic: BasicClient, body: Bytes, window: Window) -> (u64, u64) {
    let (mut done, mut errors) = (0u64, 0u64);
    let mut t0 = Instant::now();
    while t0 < window.end {
        let res = basic.echo(EchoRequest { body: body.clone() }).await;
        let t1 = Instant::now();
        match res {
            Ok(r) if r.body.len() == body.len() => {
                if window.contains(t1) {
                    NATIVE_HIST.with_borrow_mut(|h| h.record(t1 - t0));
                    done += 1;
                }
            }
            _ => errors += 1,
        }
        t0 = t1;
    }
    (done, errors)
}

/// One pipelined connection, shaped like the floor's: keep `inflight` requests made by
/// `make` outstanding through a [`polywire::rt::Pipeline`], refilling the window after each
/// batch of responses; `ok` checks each answer. Send times are kept by correlation id (one
/// clock read per batch, as the floor does).
async fn pipe_conn<P, M, K>(
    c: RemotingClient<P>,
    addr: String,
    inflight: usize,
    make: M,
    ok: K,
    base: Instant,
    window: Window,
) -> Tally
where
    P: polywire::Protocol,
    M: Fn() -> P::Frame,
    K: Fn(P::Frame) -> bool,
{
    let mut tally = Tally::new();
    let mut pipe = c
        .pipeline(&addr, inflight, Duration::from_secs(3))
        .await
        .expect("pipeline");
    let slots = (2 * inflight).next_power_of_two();
    let mut sent = vec![(u64::MAX, 0u64); slots];
    loop {
        let now = Instant::now();
        if now < window.end {
            let t = now.duration_since(base).as_nanos() as u64;
            while pipe.has_room() {
                match pipe.send(make()) {
                    Ok(id) => sent[id as usize & (slots - 1)] = (id, t),
                    Err(_) => {
                        tally.errors += 1;
                        break;
                    }
                }
            }
        } else if pipe.outstanding() == 0 {
            break;
        }
        let batch = pipe.recv().await;
        if batch.len() == 0 {
            break;
        }
        let now = Instant::now();
        let now_ns = now.duration_since(base).as_nanos() as u64;
        for (id, r) in batch {
            let (sid, t) = sent[id as usize & (slots - 1)];
            if r.is_ok_and(&ok) && sid == id {
                if window.contains(now) {
                    tally
                        .hist
                        .record(Duration::from_nanos(now_ns.saturating_sub(t)));
                }
            } else {
                tally.errors += 1;
            }
        }
    }
    tally
}

/// Pipelined echo over `srv`'s protocol: `conns` connections to `addr`, each through
/// [`pipe_conn`]. `srv` is shut down (and `multi`, when the port is shared) at the end.
#[allow(clippy::too_many_arguments)]
fn run_pipelined<P, M, K>(
    a: &Args,
    client: &Side,
    server: &Side,
    probe: &mut StatsProbe,
    name: &'static str,
    (srv, multi, addr): (RemotingServer<P>, Option<MultiServer>, SocketAddr),
    transport: Transport,
    make: M,
    ok: K,
) -> Outcome
where
    P: polywire::Protocol + Clone,
    M: Fn() -> P::Frame + Clone + Send + 'static,
    K: Fn(P::Frame) -> bool + Clone + Send + 'static,
{
    let base = Instant::now();
    let start = base + Duration::from_secs_f64(a.warmup);
    let window = Window {
        start,
        end: start + Duration::from_secs_f64(a.secs),
    };
    let (conns, inflight) = (a.conns, a.inflight);
    let proto = srv.protocol().clone();
    let tasks = client.run(async move {
        (0..conns)
            .map(|_| {
                // One RemotingClient per connection: each pools exactly one connection.
                let config = ClientConfig {
                    transport: transport.clone(),
                    ..ClientConfig::default()
                };
                let c = RemotingClient::new(proto.clone(), config);
                tokio::spawn(pipe_conn(
                    c,
                    addr.to_string(),
                    inflight,
                    make.clone(),
                    ok.clone(),
                    base,
                    window,
                ))
            })
            .collect::<Vec<_>>()
    });
    let stats = measure_counters(probe, window, a.stats);
    let (tally, per_conn) = join_conns(client, tasks);
    server.run(async move {
        if let Some(m) = multi {
            m.shutdown().await;
        }
        srv.shutdown().await
    });
    Outcome {
        name,
        rps: tally.hist.total as f64 / a.secs,
        tally,
        stats,
        per_conn,
        per_caller: Vec::new(),
    }
}

/// A static body of `len` bytes: cloning it per request costs nothing, like the floor's
/// filler.
fn static_body(len: usize) -> Bytes {
    Bytes::from_static(Box::leak(vec![0xA5u8; len].into_boxed_slice()))
}

fn run_native_pipelined(a: &Args, client: &Side, server: &Side, probe: &mut StatsProbe) -> Outcome {
    let srv = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&srv, Arc::new(BasicEcho));
    let addr = {
        let srv = srv.clone();
        server.run(async move { srv.bind("127.0.0.1:0").await.expect("bind") })
    };
    let (body, payload) = (static_body(a.payload), a.payload);
    run_pipelined(
        a,
        client,
        server,
        probe,
        "native",
        (srv, None, addr),
        Transport::Tcp,
        move || {
            EchoRequest { body: body.clone() }
                .into_request()
                .expect("a bytes body encodes")
        },
        move |f| EchoResponse::from_response(f).is_ok_and(|e| e.body.len() == payload),
    )
}

/// A `MultiServer` with four protocols, asked in this order: native, the two probe
/// protocols, and `rocketmq` last; WebSocket and HTTP/2 on as well.
fn four_protocols(rocketmq: RemotingServer<RocketmqProtocol>) -> MultiServer {
    let multi = MultiServer::new(MultiServerConfig {
        websocket: Some(WsSettings::default()),
        http2: Some(H2Settings::default()),
        ..MultiServerConfig::default()
    });
    let native = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&native, Arc::new(BasicEcho));
    multi.add(native).expect("native");
    let a = RemotingServer::new(probe_a::ProbeAProtocol, ServerConfig::default());
    multi.add(a).expect("probe-a");
    let b = RemotingServer::new(probe_b::ProbeBProtocol, ServerConfig::default());
    multi.add(b).expect("probe-b");
    multi.add(rocketmq).expect("rocketmq");
    multi
}

/// Pipelined RocketMQ echo (JSON headers) on a port of its own, or (`shared`) on a
/// `MultiServer` port where three other protocols are asked first, over `transport`.
fn run_rocketmq(
    a: &Args,
    client: &Side,
    server: &Side,
    probe: &mut StatsProbe,
    shared: bool,
    transport: Transport,
) -> Outcome {
    let srv = rocketmq_echo_server();
    let (multi, addr) = {
        let srv = srv.clone();
        server.run(async move {
            if !shared {
                return (None, srv.bind("127.0.0.1:0").await.expect("bind"));
            }
            let multi = four_protocols(srv);
            let addr = multi.bind("127.0.0.1:0").await.expect("bind");
            (Some(multi), addr)
        })
    };
    let (body, payload) = (static_body(a.payload), a.payload);
    run_pipelined(
        a,
        client,
        server,
        probe,
        match (shared, &transport) {
            (false, _) => "rocketmq",
            (true, Transport::Tcp) => "rocketmq-shared",
            (true, Transport::WebSocket { .. }) => "rocketmq-shared-ws",
            (true, Transport::Http2) => "rocketmq-shared-h2c",
        },
        (srv, multi, addr),
        transport,
        move || {
            let mut f = polywire::Protocol::request(&RocketmqProtocol, 2001);
            f.body = body.clone();
            f
        },
        move |f: polywire_protocols::rocketmq::Frame| f.body.len() == payload,
    )
}

fn run_native(a: &Args, client: &Side, server: &Side, probe: &mut StatsProbe) -> Outcome {
    let srv = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&srv, Arc::new(BasicEcho));
    let addr = {
        let srv = srv.clone();
        server.run(async move { srv.bind("127.0.0.1:0").await.expect("bind") })
    };

    let (conns, inflight) = (a.conns, a.inflight);
    let body = Bytes::from(vec![0xA5u8; a.payload]);
    let (warmup, secs) = (a.warmup, a.secs);
    // One RemotingClient per connection: each pools exactly one connection to `addr`.
    let (clients, tasks, window) = client.run(async move {
        let mut clients = Vec::with_capacity(conns);
        for _ in 0..conns {
            let c = RemotingClient::new(NativeProtocol, ClientConfig::default());
            c.connection(&addr.to_string())
                .await
                .expect("connect (native)");
            clients.push(c);
        }
        let start = Instant::now() + Duration::from_secs_f64(warmup);
        let window = Window {
            start,
            end: start + Duration::from_secs_f64(secs),
        };
        let mut tasks = Vec::with_capacity(conns * inflight);
        for c in &clients {
            let basic = BasicClient::new(c.clone(), addr.to_string());
            for _ in 0..inflight {
                tasks.push(tokio::spawn(native_caller(
                    basic.clone(),
                    body.clone(),
                    window,
                )));
            }
        }
        (clients, tasks, window)
    });
    let stats = measure_counters(probe, window, a.stats);
    let (tally, per_conn, per_caller) = client.run(async move {
        let mut t = Tally::new();
        let mut per_conn = vec![0u64; conns];
        let mut per_caller = Vec::with_capacity(tasks.len());
        for (i, h) in tasks.into_iter().enumerate() {
            let (done, errors) = h.await.expect("native caller task");
            per_conn[i / inflight] += done;
            per_caller.push(done);
            t.errors += errors;
        }
        // Every caller ran on this runtime's one worker thread, as does this task.
        t.hist = NATIVE_HIST.with_borrow_mut(|h| std::mem::replace(h, Histogram::new()));
        for c in clients {
            if let Ok(conn) = c.connection(&addr.to_string()).await {
                conn.close();
            }
        }
        (t, per_conn, per_caller)
    });
    server.run(async move { srv.shutdown().await });
    Outcome {
        name: "n-call",
        rps: tally.hist.total as f64 / a.secs,
        tally,
        stats,
        per_conn,
        per_caller,
    }
}

// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// 3. Connection set-up: dedicated ports against one shared MultiServer port

/// A RocketMQ server answering its test code 2001 with the request's body.
fn rocketmq_echo_server() -> RemotingServer<RocketmqProtocol> {
    polywire_examples::echo::rocketmq(ServerConfig::default())
}

/// Opens a fresh connection to `addr` with `config` (TLS or not), makes one echo call
/// (native: after its handshake) and closes it; returns the time from before the connect to the response.
async fn connect_once(addr: &str, rocketmq: bool, config: ClientConfig) -> Duration {
    let t = Instant::now();
    if rocketmq {
        let c = RemotingClient::new(RocketmqProtocol, config);
        let mut req = polywire::Protocol::request(&RocketmqProtocol, 2001);
        req.body = Bytes::from_static(b"ping");
        c.invoke(addr, req, Duration::from_secs(3))
            .await
            .expect("rocketmq echo");
        let took = t.elapsed();
        c.connection(addr).await.expect("pooled").close();
        took
    } else {
        let c = RemotingClient::new(NativeProtocol, config);
        BasicClient::new(c.clone(), addr.to_string())
            .echo(EchoRequest {
                body: Bytes::from_static(b"ping"),
            })
            .await
            .expect("native echo");
        let took = t.elapsed();
        c.connection(addr).await.expect("pooled").close();
        took
    }
}

/// The hand-written echo's set-up: connect, one 8-byte frame and its echo, close; the time
/// from before the connect to the echo.
async fn connect_floor_once(addr: SocketAddr) -> Duration {
    let t = Instant::now();
    drop(floor_echo_once(addr).await);
    t.elapsed()
}

/// Connects to the hand-written echo at `addr` and exchanges one 8-byte frame; the open
/// connection.
async fn floor_echo_once(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect (floor)");
    let _ = s.set_nodelay(true);
    let mut frame = BytesMut::new();
    frame.put_u32(8);
    frame.put_u64(7);
    s.write_all(&frame).await.expect("write (floor)");
    let mut back = [0u8; 12];
    s.read_exact(&mut back).await.expect("echo (floor)");
    s
}

/// This process's resident memory, from `/proc/self/statm` (0 where there is none).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Prints how much resident memory four protocols registered on one shared `MultiServer`
/// port add (servers made, registered and listening; no connection yet): for a first
/// registry, which also pays one-time costs (lazy statics, the runtime's I/O driver), and
/// for a second one beside it.
fn registry_memory(server: &Side) {
    let start = || {
        server.run(async {
            let multi = four_protocols(rocketmq_echo_server());
            multi.bind("127.0.0.1:0").await.expect("bind");
            multi
        })
    };
    let r0 = resident_bytes();
    let first = start();
    let r1 = resident_bytes();
    let second = start();
    let r2 = resident_bytes();
    let n = second.protocols().len() as u64;
    println!(
        "resident memory with {n} protocols registered on a shared port: +{} KiB for a first registry, +{} KiB for a second ({} KiB per protocol)",
        r1.saturating_sub(r0) / 1024,
        r2.saturating_sub(r1) / 1024,
        r2.saturating_sub(r1) / 1024 / n
    );
    server.run(async move {
        first.shutdown().await;
        second.shutdown().await;
    });
}

/// `--connect N`: connect to first response, native (with its handshake) and RocketMQ,
/// each on a port of its own and on one port shared through a `MultiServer` (detection
/// included), one connection after another in rotation.
fn run_connect(n: usize, client: &Side, server: &Side) {
    registry_memory(server);
    let (tls, client_tls) = polywire_examples::self_signed::localhost().expect("a certificate");
    let (native_own, rocketmq_own, shared, multi, floor_addr) = server.run(async {
        let native = RemotingServer::new(NativeProtocol, ServerConfig::default());
        serve_basic_now(&native, Arc::new(BasicEcho));
        let rocketmq = rocketmq_echo_server();
        let native_own = native.bind("127.0.0.1:0").await.expect("bind");
        let rocketmq_own = rocketmq.bind("127.0.0.1:0").await.expect("bind");
        // The shared port takes TLS and plaintext (permissive), WebSocket and HTTP/2.
        let multi = MultiServer::new(MultiServerConfig {
            tls: Some(TlsSettings {
                mode: TlsMode::Permissive,
                config: Arc::new(tls),
            }),
            websocket: Some(WsSettings::default()),
            http2: Some(H2Settings::default()),
            ..MultiServerConfig::default()
        });
        multi.add(native).expect("native");
        multi.add(rocketmq).expect("rocketmq");
        let shared = multi.bind("127.0.0.1:0").await.expect("bind");
        // The hand-written echo the others are compared with.
        let floor = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let floor_addr = floor.local_addr().expect("addr");
        tokio::spawn(floor_server(floor, FLOOR_READS));
        (native_own, rocketmq_own, shared, multi, floor_addr)
    });
    let (plain, secure) = (
        ClientConfig::default(),
        ClientConfig {
            tls: Some(client_tls),
            ..ClientConfig::default()
        },
    );
    let over = |transport: Transport| ClientConfig {
        transport,
        ..plain.clone()
    };
    let (ws, h2) = (over(Transport::websocket()), over(Transport::Http2));
    let designs = [
        ("native", native_own, false, plain.clone()),
        ("native-shared", shared, false, plain.clone()),
        ("native-tls-shared", shared, false, secure.clone()),
        ("native-ws-shared", shared, false, ws.clone()),
        ("native-h2c-shared", shared, false, h2.clone()),
        ("rocketmq", rocketmq_own, true, plain.clone()),
        ("rocketmq-shared", shared, true, plain),
        ("rocketmq-tls-shared", shared, true, secure),
        ("rocketmq-ws-shared", shared, true, ws),
        ("rocketmq-h2c-shared", shared, true, h2),
    ];
    println!(
        "connection set-up over loopback: connect, TLS (tls), handshake (native), detection (shared), one echo; {n} connections per design"
    );
    let names: Vec<&str> = designs.iter().map(|d| d.0).collect();
    let (hists, floor) = client.run(async move {
        let mut hists: Vec<Histogram> = designs.iter().map(|_| Histogram::new()).collect();
        let mut floor = Histogram::new();
        for _ in 0..n {
            // In turn with the others, so that each sees the machine in the same state.
            floor.record(connect_floor_once(floor_addr).await);
            for (h, (_, addr, rocketmq, config)) in hists.iter_mut().zip(&designs) {
                h.record(connect_once(&addr.to_string(), *rocketmq, config.clone()).await);
            }
        }
        (hists, floor)
    });
    let line = |name: &str, h: &Histogram| {
        println!(
            "{name:<20} p50 {:>6}  p99 {:>6}  p999 {:>6}",
            us(h.quantile(0.5)),
            us(h.quantile(0.99)),
            us(h.quantile(0.999)),
        );
    };
    line("floor", &floor);
    for (h, name) in hists.iter().zip(&names) {
        line(name, h);
    }
    let ratio = |h: &Histogram, q: f64| {
        h.quantile(q).as_secs_f64() / floor.quantile(q).as_secs_f64().max(1e-9)
    };
    for (h, name) in hists.iter().zip(&names) {
        if *name == "native" || *name == "rocketmq" {
            println!(
                "ratio   {name}/floor set-up p50 {:.2}x  p99 {:.2}x",
                ratio(h, 0.5),
                ratio(h, 0.99)
            );
        }
    }
    server.run(async move { multi.shutdown().await });
}

// ---------------------------------------------------------------------------------------
// 4. Memory of idle connections: a server in a child process, its clients here

/// The servers `--idle` measures: the hand-written floor echo, native (its clients make the
/// handshake) and RocketMQ (no handshake).
const IDLE_DESIGNS: [&str; 3] = ["floor", "native", "rocketmq"];

/// The child process of an `--idle` run: serves `design` on an ephemeral port (told to the
/// parent as `addr <address>` on stdout), answers each `rss` line on stdin with its resident
/// bytes, and exits when stdin closes.
fn idle_serve(design: &str, n: usize) {
    use std::io::{BufRead, Write};
    let server = Side::new("lt-server", RtKind::Multi, None);
    let config = ServerConfig {
        max_connections: n + 100,
        ..ServerConfig::default()
    };
    let design = design.to_string();
    let addr = server.run(async move {
        match design.as_str() {
            "floor" => {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("address");
                tokio::spawn(floor_server(listener, FLOOR_READS));
                addr
            }
            "native" => {
                let srv = polywire_examples::echo::native(config);
                let addr = srv.bind("127.0.0.1:0").await.expect("bind");
                std::mem::forget(srv);
                addr
            }
            _ => {
                let srv = polywire_examples::echo::rocketmq(config);
                let addr = srv.bind("127.0.0.1:0").await.expect("bind");
                std::mem::forget(srv);
                addr
            }
        }
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "addr {addr}");
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("rss") => {
                let _ = writeln!(out, "{}", resident_bytes());
                let _ = out.flush();
            }
            _ => break,
        }
    }
}

/// An `--idle` server process and the pipes to ask it for its resident memory.
struct IdleChild {
    child: std::process::Child,
    to: std::process::ChildStdin,
    from: std::io::BufReader<std::process::ChildStdout>,
}

impl IdleChild {
    fn start(design: &str, n: usize) -> (IdleChild, SocketAddr) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(["--idle-serve", design, "--idle", &n.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("server process");
        let to = child.stdin.take().expect("stdin");
        let mut from = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        from.read_line(&mut line).expect("server address");
        let addr = line
            .trim()
            .strip_prefix("addr ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("server process said {line:?}"));
        (IdleChild { child, to, from }, addr)
    }

    /// The server process's resident bytes.
    fn rss(&mut self) -> u64 {
        use std::io::{BufRead, Write};
        writeln!(self.to, "rss").expect("ask the server");
        self.to.flush().expect("ask the server");
        let mut line = String::new();
        self.from.read_line(&mut line).expect("server answer");
        line.trim().parse().expect("a byte count")
    }

    fn stop(self) {
        let IdleChild { mut child, to, .. } = self;
        drop(to);
        let _ = child.wait();
    }
}

/// This process's resident memory in bytes (0 where `/proc` has no answer): the clients'
/// side of an `--idle` run.
fn own_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// What an idle client keeps open until it is closed.
enum IdleConn {
    Floor(TcpStream),
    Native(RemotingClient<NativeProtocol>),
    Rocketmq(RemotingClient<RocketmqProtocol>),
}

/// Opens one connection to `addr` for `design` and makes one echo call on it, so that the
/// server has read and written on it once before it goes idle.
async fn idle_open(design: &str, addr: SocketAddr) -> IdleConn {
    let config = ClientConfig::default();
    match design {
        "floor" => IdleConn::Floor(floor_echo_once(addr).await),
        "native" => {
            let c = RemotingClient::new(NativeProtocol, config);
            BasicClient::new(c.clone(), addr.to_string())
                .echo(EchoRequest {
                    body: Bytes::from_static(b"ping"),
                })
                .await
                .expect("native echo");
            IdleConn::Native(c)
        }
        _ => {
            let c = RemotingClient::new(RocketmqProtocol, config);
            let mut req = polywire::Protocol::request(&RocketmqProtocol, 2001);
            req.body = Bytes::from_static(b"ping");
            c.invoke(&addr.to_string(), req, Duration::from_secs(10))
                .await
                .expect("rocketmq echo");
            IdleConn::Rocketmq(c)
        }
    }
}

async fn idle_close(conn: IdleConn, addr: SocketAddr) {
    let addr = addr.to_string();
    match conn {
        IdleConn::Floor(mut s) => {
            let _ = s.shutdown().await;
        }
        IdleConn::Native(c) => {
            if let Ok(conn) = c.connection(&addr).await {
                conn.close();
            }
        }
        IdleConn::Rocketmq(c) => {
            if let Ok(conn) = c.connection(&addr).await {
                conn.close();
            }
        }
    }
}

/// `--idle N`: for each server design, in a child process (server and clients each need a
/// descriptor per connection), the server's resident memory before any connection, with N
/// idle connections open (each made one echo call first), and 5 s after they all closed.
fn run_idle(a: &Args) {
    let n = a.idle;
    println!(
        "server resident memory, {n} idle connections (one echo each, then idle), server in a child process"
    );
    println!(
        "{:<10} {:>10} {:>12} {:>14} {:>16} {:>16}",
        "design", "before", "open", "per conn", "5 s after close", "client per conn"
    );
    let client = Side::new("lt-client", RtKind::Multi, None);
    for design in IDLE_DESIGNS {
        if a.only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|d| d == design))
        {
            continue;
        }
        let (mut child, addr) = IdleChild::start(design, n);
        std::thread::sleep(Duration::from_millis(500));
        let before = child.rss();
        let client_before = own_rss();
        let name = design.to_string();
        let conns = client.run(async move {
            let mut conns = Vec::with_capacity(n);
            // A few hundred connects at a time: fewer than the listener's backlog.
            for start in (0..n).step_by(256) {
                let batch: Vec<_> = (start..n.min(start + 256))
                    .map(|_| {
                        let name = name.clone();
                        tokio::spawn(async move { idle_open(&name, addr).await })
                    })
                    .collect();
                for h in batch {
                    conns.push(h.await.expect("connection task"));
                }
            }
            conns
        });
        std::thread::sleep(Duration::from_secs(1));
        let open = child.rss();
        let client_open = own_rss();
        client.run(async move {
            for c in conns {
                idle_close(c, addr).await;
            }
        });
        std::thread::sleep(Duration::from_secs(5));
        let after = child.rss();
        child.stop();
        let kib = |b: u64| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0));
        println!(
            "{design:<10} {:>10} {:>12} {:>10.1} KiB {:>9} ({:+.0} %) {:>12.1} KiB",
            kib(before),
            kib(open),
            open.saturating_sub(before) as f64 / 1024.0 / n as f64,
            kib(after),
            (after as f64 / before.max(1) as f64 - 1.0) * 100.0,
            client_open.saturating_sub(client_before) as f64 / 1024.0 / n as f64
        );
    }
}

fn main() {
    polywire_examples::logging::from_env();
    let mut a = parse_args();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    a.pin = a.pin
        && cpus >= 2
        && std::process::Command::new("taskset")
            .arg("-V")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if let Some(design) = &a.idle_serve {
        idle_serve(design, a.idle);
        return;
    }
    if a.idle > 0 {
        run_idle(&a);
        return;
    }
    if a.connect > 0 {
        let server = Side::new("lt-server", a.rt, a.global_queue_interval);
        let client = Side::new("lt-client", a.rt, a.global_queue_interval);
        if a.pin {
            let _ = pin_threads("lt-server", 0) && pin_threads("lt-client", 1);
        }
        run_connect(a.connect, &client, &server);
        return;
    }
    println!(
        "echo over loopback: {} conns x {} in flight, {} B payload, {}s measured after {}s warm-up, \
         {} runtimes (1 worker each for server and client{})",
        a.conns,
        a.inflight,
        a.payload,
        a.secs,
        a.warmup,
        match a.rt {
            RtKind::Multi => "multi-thread",
            RtKind::Current => "current-thread",
        },
        if a.pin {
            ", pinned to CPU 0 and CPU 1"
        } else {
            ", unpinned"
        }
    );
    let mut probe = StatsProbe::new(a.rt);
    // Ratios to the floor per design, one per round: rounds alternate the designs (and the
    // order within a round), so a machine whose speed drifts affects each about equally.
    let mut ratios: Vec<((&'static str, &'static str), Vec<f64>)> = Vec::new();
    for round in 1..=a.rounds {
        if a.rounds > 1 {
            println!("round {round} of {}", a.rounds);
        }
        let mut results = Vec::new();
        // Every other round runs the designs in the opposite order, so that whatever the
        // first run of a round leaves behind (or the second inherits) weighs on each design
        // equally.
        let mut order = DESIGNS;
        if round % 2 == 0 {
            order.reverse();
        }
        for design in order {
            if a.only
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|d| d == design))
            {
                continue;
            }
            // Fresh runtimes per design so that one cannot leave work behind for the other.
            let server = Side::new("lt-server", a.rt, a.global_queue_interval);
            let client = Side::new("lt-client", a.rt, a.global_queue_interval);
            if a.pin {
                let pinned = pin_threads("lt-server", 0) && pin_threads("lt-client", 1);
                if !pinned && results.is_empty() && round == 1 {
                    println!("(could not pin threads with taskset; running unpinned)");
                }
            }
            let o = match design {
                "floor" => run_floor(&a, &client, &server, &mut probe, "floor", FLOOR_READS),
                "floor-wide" => {
                    run_floor(&a, &client, &server, &mut probe, "floor-wide", WIDE_READS)
                }
                "native" => run_native_pipelined(&a, &client, &server, &mut probe),
                "rocketmq" => run_rocketmq(&a, &client, &server, &mut probe, false, Transport::Tcp),
                "rocketmq-shared" => {
                    run_rocketmq(&a, &client, &server, &mut probe, true, Transport::Tcp)
                }
                "rocketmq-shared-ws" => {
                    let ws = Transport::websocket();
                    run_rocketmq(&a, &client, &server, &mut probe, true, ws)
                }
                "rocketmq-shared-h2c" => {
                    run_rocketmq(&a, &client, &server, &mut probe, true, Transport::Http2)
                }
                _ => run_native(&a, &client, &server, &mut probe),
            };
            drop(client);
            drop(server);
            println!("{o}");
            print_stats(&o, a.secs);
            results.push(o);
        }
        // Each design against each floor that ran, and a design on a shared port against
        // the same on a port of its own.
        let floors = results.iter().filter(|o| o.name.starts_with("floor"));
        let mut pairs: Vec<(&Outcome, &Outcome)> = floors
            .flat_map(|f| {
                results
                    .iter()
                    .filter(|o| !o.name.starts_with("floor"))
                    .map(move |o| (o, f))
            })
            .collect();
        // And a transport against TCP on the same port.
        pairs.extend(results.iter().filter_map(|o| {
            let base = ["-shared", "-ws", "-h2c"]
                .iter()
                .find_map(|s| o.name.strip_suffix(s))?;
            Some((o, results.iter().find(|d| d.name == base)?))
        }));
        for (o, floor) in pairs {
            let ratio = o.rps / floor.rps.max(1e-9);
            println!(
                "ratio   {}/{} throughput {:.2}x  (p50 {:.2}x, p99 {:.2}x)",
                o.name,
                floor.name,
                ratio,
                o.tally.hist.quantile(0.5).as_secs_f64()
                    / floor.tally.hist.quantile(0.5).as_secs_f64().max(1e-12),
                o.tally.hist.quantile(0.99).as_secs_f64()
                    / floor.tally.hist.quantile(0.99).as_secs_f64().max(1e-12),
            );
            let key = (o.name, floor.name);
            match ratios.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(ratio),
                None => ratios.push((key, vec![ratio])),
            }
        }
    }
    if a.rounds > 1 {
        for ((name, floor), mut v) in ratios {
            let all = v
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(" ");
            println!(
                "median  {name}/{floor} throughput {:.2}x over {} rounds ({all})",
                median(&mut v),
                a.rounds
            );
        }
    }
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [0.9, 0.7, 0.8]), 0.8);
        assert_eq!(median(&mut [0.9, 0.6, 0.7, 0.8]), 0.75);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn histogram_buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for i in 0..NBUCKETS - 1 {
            let u = Histogram::upper(i);
            assert!(i == 0 || u > last, "bucket {i}");
            assert_eq!(Histogram::index(u), i, "upper of {i}");
            assert_eq!(Histogram::index(u + 1), i + 1, "next of {i}");
            last = u;
        }
        for v in [1u64, 31, 32, 33, 1000, 75_000, 1 << 30] {
            let u = Histogram::upper(Histogram::index(v));
            assert!(
                u >= v && (u - v) as f64 <= v as f64 / 16.0 + 1.0,
                "{v} -> {u}"
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::new();
        for v in 1..=1000u64 {
            h.record(Duration::from_micros(v));
        }
        let p50 = h.quantile(0.5).as_micros() as f64;
        assert!((500.0..=520.0).contains(&p50), "{p50}");
        let p999 = h.quantile(0.999).as_micros() as f64;
        assert!((999.0..=1040.0).contains(&p999), "{p999}");
    }
}
