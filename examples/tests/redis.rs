//! The Redis-compatible server example (`examples/src/redis_server.rs`, on the server
//! generated from `resp.wire`) against software nobody here wrote: redis-py (Python) in RESP2
//! and RESP3, and Redis's own `redis-cli` and `redis-benchmark`; and against malformed and
//! empty input.
//!
//! `.ci/run` installs them; elsewhere, without them, the tests say so loudly and pass (under
//! CI they fail instead). The malformed-input and shared-port tests need nothing installed.

mod common;

use common::{have, native_echo, until_closed};
use polywire::rt::MultiServer;
use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server on a free port of 127.0.0.1.
async fn start() -> (MultiServer, SocketAddr) {
    let (multi, addr, _redis) = polywire_examples::redis_server::serve("127.0.0.1:0")
        .await
        .expect("the server starts");
    (multi, addr)
}

/// Runs `program args`, `stdin` fed to it, killed unless it ends within `secs`.
async fn run(program: &str, args: &[&str], stdin: Option<Vec<u8>>, secs: u64) -> Output {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let feed = child.stdin.take().zip(stdin).map(|(mut pipe, bytes)| {
        tokio::spawn(async move {
            // An early exit shows in the output; the write error says less.
            let _ = pipe.write_all(&bytes).await;
        })
    });
    let out = tokio::time::timeout(Duration::from_secs(secs), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} ends within {secs} s"))
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    if let Some(feed) = feed {
        feed.await.expect("the input is written");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_py_uses_the_server_in_resp2_and_resp3() {
    if !have(
        "python3",
        &[
            "-c",
            "import redis; assert int(redis.__version__.split('.')[0]) >= 5",
        ],
        true,
        "redis-py (python3)",
    ) {
        return;
    }
    let (multi, addr) = start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/redis/cases.py");
    let cases = [
        "basic", "strings", "counters", "expiry", "keys", "flush", "errors", "misc", "pipeline",
        "pubsub", "binary", "quit",
    ];
    let ip = addr.ip().to_string();
    let port = addr.port().to_string();
    let args: Vec<&str> = [script, &ip, &port].into_iter().chain(cases).collect();
    let out = run("python3", &args, None, 120).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "redis-py cases failed:\n{stdout}\n{stderr}"
    );
    for case in cases {
        for proto in [2, 3] {
            assert!(
                stdout.contains(&format!("ok {case} {proto}\n")),
                "{case} in RESP{proto} did not pass:\n{stdout}\n{stderr}"
            );
        }
    }
    multi.shutdown().await;
}

/// `redis-cli -h 127.0.0.1 -p port args...`: its standard output, having exited 0.
async fn cli(port: &str, args: &[&str]) -> String {
    let all: Vec<&str> = ["-h", "127.0.0.1", "-p", port]
        .iter()
        .chain(args)
        .copied()
        .collect();
    let out = run("redis-cli", &all, None, 20).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cli_runs_commands_and_mass_inserts_with_pipe() {
    if !have("redis-cli", &["--version"], true, "redis-cli (redis-tools)") {
        return;
    }
    let (multi, addr) = start().await;
    let port = addr.port().to_string();
    // Its output is not a terminal: redis-cli prints replies raw, a line each.
    for (flag, proto) in [(None, 2), (Some("-3"), 3)] {
        let (key, n) = (format!("cli:{proto}"), format!("cli:{proto}:n"));
        let unknown = "ERR unknown command 'nope', with args beginning with: 'a' \n\n";
        let arity = "ERR wrong number of arguments for 'get' command\n\n";
        for (args, want) in [
            (vec!["PING"], "PONG\n"),
            (vec!["ECHO", "a b"], "a b\n"),
            (vec!["SET", &key, "hello world"], "OK\n"),
            (vec!["GET", &key], "hello world\n"),
            (vec!["GET", "cli:none"], "\n"),
            (vec!["INCR", &n], "1\n"),
            (vec!["INCRBY", &n, "41"], "42\n"),
            (vec!["MGET", &key, "cli:none", &n], "hello world\n\n42\n"),
            (vec!["EXISTS", &key, &n, "cli:none"], "2\n"),
            (vec!["DEL", &n], "1\n"),
            (vec!["nope", "a"], unknown),
            (vec!["GET"], arity),
        ] {
            let args: Vec<&str> = flag.into_iter().chain(args).collect();
            assert_eq!(cli(&port, &args).await, want, "RESP{proto}: {args:?}");
        }
        // HELLO: a flat array in RESP2, a map (printed `key value`) in RESP3.
        let hello = cli(
            &port,
            &flag.into_iter().chain(["HELLO"]).collect::<Vec<_>>(),
        )
        .await;
        let (want_server, want_proto) = if proto == 2 {
            ("server\nredis\n", "proto\n2\n")
        } else {
            ("server redis\n", "proto 3\n")
        };
        assert!(
            hello.starts_with(want_server) && hello.contains(want_proto),
            "RESP{proto} HELLO: {hello:?}"
        );
    }

    // Mass insertion: the protocol of 100,000 SETs on standard input.
    assert_eq!(cli(&port, &["FLUSHALL"]).await, "OK\n");
    let n = 100_000;
    let mut text = Vec::with_capacity(n * 48);
    for i in 0..n {
        let (k, v) = (format!("pipe:{i}"), format!("value:{i}"));
        text.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
    }
    let out = run(
        "redis-cli",
        &["-h", "127.0.0.1", "-p", &port, "--pipe"],
        Some(text),
        60,
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "redis-cli --pipe failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(cli(&port, &["DBSIZE"]).await, "100000\n");
    assert_eq!(cli(&port, &["GET", "pipe:77777"]).await, "value:77777\n");
    assert_eq!(
        cli(&port, &["MGET", "pipe:0", "pipe:99999", "pipe:100000"]).await,
        "value:0\nvalue:99999\n\n"
    );
    // Every reply counted, none an error: redis-cli ends its input with an empty line and
    // an ECHO of a random marker, and counts the replies before the marker's.
    assert!(
        stdout.contains("errors: 0, replies: 100000\n"),
        "redis-cli --pipe:\n{stdout}\n{stderr}"
    );
    multi.shutdown().await;
}

/// Sends `bytes` and expects `want` back within 5 s.
async fn expect(s: &mut TcpStream, bytes: &[u8], want: &[u8]) {
    s.write_all(bytes).await.expect("sends");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let end = Instant::now() + Duration::from_secs(5);
    while got.len() < want.len() {
        match tokio::time::timeout_at(end.into(), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "the answer to {:?}",
        String::from_utf8_lossy(bytes)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_is_a_protocol_error_that_closes_only_that_connection() {
    let (multi, addr) = start().await;
    // A healthy client connected throughout.
    let mut healthy = TcpStream::connect(addr).await.expect("connects");
    expect(
        &mut healthy,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"+OK\r\n",
    )
    .await;

    // resp.wire's limits: strings up to 512 MiB (`max_string_len`); lines up to 64 KiB and
    // nesting 32 deep (the generated defaults, `max_line_len` and `max_depth`).
    let long = |head: &[u8], fill: u8| [head, &vec![fill; 70_000][..]].concat();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a bulk length over 512 MiB",
            b"*1\r\n$999999999999\r\n".to_vec(),
        ),
        ("a non-digit in a bulk length", b"*1\r\n$1x\r\n".to_vec()),
        ("a non-digit in an array count", b"*1x\r\n".to_vec()),
        (
            "a 70,000-byte bulk length line without CRLF",
            long(b"*1\r\n$", b'1'),
        ),
        (
            "a 70,000-byte array count line without CRLF",
            long(b"*", b'1'),
        ),
        (
            "a 70,000-byte simple string line without CRLF",
            long(b"*1\r\n+", b'a'),
        ),
        ("arrays nested 200 deep", b"*1\r\n".repeat(200)),
    ];
    for (what, bytes) in cases {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        s.write_all(&bytes).await.expect("sends");
        let (got, closed) = until_closed(&mut s).await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            got.starts_with(b"-ERR Protocol error") && got.ends_with(b"\r\n"),
            "{what}: answered {text:?}"
        );
        assert_eq!(
            got.iter().filter(|&&b| b == b'\n').count(),
            1,
            "{what}: one error line, got {text:?}"
        );
        assert!(closed, "{what}: the connection stays open after {text:?}");
        eprintln!("{what}: {text:?}");
    }

    // An array of something other than bulk strings: Redis's own words.
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(b"*1\r\n:1\r\n").await.expect("sends");
    let (got, closed) = until_closed(&mut s).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR Protocol error: expected '$', got ':'\r\n"
    );
    assert!(
        closed,
        "an integer for a command: the connection stays open"
    );

    // Nothing else was affected: a fresh connection and the healthy one are served.
    let mut fresh = TcpStream::connect(addr).await.expect("connects");
    expect(&mut fresh, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n").await;
    expect(
        &mut healthy,
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"$1\r\nv\r\n",
    )
    .await;
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_benchmark_runs_set_and_get() {
    if !have(
        "redis-benchmark",
        &["--version"],
        true,
        "redis-benchmark (redis-tools)",
    ) {
        return;
    }
    let (multi, addr) = start().await;
    let port = addr.port().to_string();
    let args = [
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-t",
        "set,get",
        "-n",
        "20000",
        "-c",
        "10",
        "-P",
        "16",
        "-q",
    ];
    let out = run("redis-benchmark", &args, None, 60).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "redis-benchmark failed:\n{stdout}\n{stderr}"
    );
    // `-q` prints progress and results on one line, separated by carriage returns.
    for test in ["SET", "GET"] {
        assert!(
            stdout
                .split(['\r', '\n'])
                .any(|l| l.trim_start().starts_with(&format!("{test}: "))
                    && l.contains(" requests per second")),
            "no {test} result:\n{stdout}\n{stderr}"
        );
    }
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_port_is_shared_with_the_native_protocol_and_mqtt() {
    let (multi, addr) = start().await;
    // Redis traffic: a pipeline on one connection, left open.
    let mut redis = TcpStream::connect(addr).await.expect("connects");
    expect(
        &mut redis,
        b"*3\r\n$3\r\nSET\r\n$5\r\nshare\r\n$3\r\nyes\r\n*2\r\n$3\r\nGET\r\n$5\r\nshare\r\n",
        b"+OK\r\n$3\r\nyes\r\n",
    )
    .await;

    // The native echo on the same address.
    native_echo(addr, b"beside redis").await;

    // MQTT too: a 3.1.1 CONNECT is acknowledged.
    let mut mqtt = TcpStream::connect(addr).await.expect("connects");
    let mut connect = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x1e\x00\x04redi".to_vec();
    connect[1] = (connect.len() - 2) as u8;
    mqtt.write_all(&connect).await.expect("sends");
    let mut ack = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), mqtt.read_exact(&mut ack))
        .await
        .expect("CONNACK within 5 s")
        .expect("reads");
    assert_eq!(ack, [0x20, 0x02, 0x00, 0x00]);

    // The Redis connection is still served, and the echo again after it.
    expect(
        &mut redis,
        b"*2\r\n$4\r\nECHO\r\n$5\r\nagain\r\n",
        b"$5\r\nagain\r\n",
    )
    .await;
    native_echo(addr, b"after redis").await;
    multi.shutdown().await;
}

/// Inline commands, as typed into telnet or nc, begin with any letter: no detector on the
/// shared port claims them, and Redis gets them as the port's fallback. So does a client
/// that says nothing past the detection timeout before its first command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_commands_and_quiet_clients_reach_redis_on_the_shared_port() {
    let (multi, addr) = start().await;
    let mut s = TcpStream::connect(addr).await.expect("connects");
    expect(&mut s, b"PING\r\n", b"+PONG\r\n").await;
    expect(
        &mut s,
        b"SET inline \"two words\"\r\nGET inline\r\n",
        b"+OK\r\n$9\r\ntwo words\r\n",
    )
    .await;
    let mut quiet = TcpStream::connect(addr).await.expect("connects");
    // The example's detection timeout is the default, 3 s.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    expect(
        &mut quiet,
        b"*2\r\n$3\r\nGET\r\n$6\r\ninline\r\n",
        b"$9\r\ntwo words\r\n",
    )
    .await;
    assert_eq!(multi.unclaimed(), 0);
    multi.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_commands_get_no_answer() {
    let (multi, addr) = start().await;
    // Redis answers nothing to an empty line (`redis-cli --pipe` sends one before its final
    // ECHO): the next answer is the ECHO's. (It answers nothing to `*0` and `*-1` either;
    // here those are answered, see the README's RESP section.)
    for empty in [&b"\r\n"[..], b"\r\n\r\n"] {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        expect(&mut s, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n").await;
        let mut bytes = empty.to_vec();
        bytes.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n");
        expect(&mut s, &bytes, b"$2\r\nok\r\n").await;
    }
    multi.shutdown().await;
}
