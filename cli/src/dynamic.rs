//! `decode` and `encode` for any `.wire` file, through the run-time interpreter.

use base64::Engine;
use polywire::Codec;
use polywire::bytes::BytesMut;
use polywire_dynamic::{DynCodec, Schema};
use std::fmt::Write as _;
use std::path::Path;

/// How bytes are written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bytes {
    /// Hex digits; whitespace is ignored.
    Hex,
    /// Base64 (standard alphabet, padded); whitespace separates chunks.
    Base64,
    /// The bytes themselves.
    Raw,
}

/// How decoded frames are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// One JSON value per frame, one per line.
    Json,
    /// Every part of every frame with its byte offsets.
    Tree,
}

/// The side of a connection whose bytes are read (for a union of the two directions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Side {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

/// What selects the codec.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub wire: &'a Path,
    /// Folders imports are looked for in (`-I`).
    pub include: &'a [std::path::PathBuf],
    pub message: Option<&'a str>,
    pub side: Option<Side>,
    pub version: Option<u32>,
}

fn codec(t: &Target<'_>) -> Result<DynCodec, String> {
    let schema = Schema::load_with(t.wire, t.include).map_err(|e| e.to_string())?;
    let mut codec = match t.message {
        Some(m) => DynCodec::for_message(&schema, m),
        None => DynCodec::new(&schema),
    }
    .map_err(|e| format!("{}: {e}", t.wire.display()))?;
    if let Some(side) = t.side {
        codec = codec.sent_by(match side {
            Side::Client => polywire::Sender::Client,
            Side::Server => polywire::Sender::Server,
        });
    }
    if let Some(v) = t.version {
        codec.set_version(v);
    }
    Ok(codec)
}

/// Reads `input` written as `form` into bytes.
pub fn bytes_of(input: &[u8], form: Bytes) -> Result<Vec<u8>, String> {
    match form {
        Bytes::Raw => Ok(input.to_vec()),
        Bytes::Hex => {
            let text = std::str::from_utf8(input)
                .map_err(|e| format!("the hex input is not text: {e}"))?;
            crate::parse_hex(text)
        }
        Bytes::Base64 => {
            let text = std::str::from_utf8(input)
                .map_err(|e| format!("the base64 input is not text: {e}"))?;
            let mut out = Vec::new();
            for (n, chunk) in text.split_whitespace().enumerate() {
                let b = base64::engine::general_purpose::STANDARD
                    .decode(chunk)
                    .map_err(|e| format!("base64 chunk {}: {e}", n + 1))?;
                out.extend(b);
            }
            Ok(out)
        }
    }
}

/// Every frame of `input` (a stream of frames), shown as `view`. Frames decoded before an
/// error are shown; the error names the frame, where it starts in the input, and the
/// byte offset and field within it.
pub fn decode(t: &Target<'_>, input: &[u8], view: View) -> (String, Result<(), String>) {
    let mut codec = match codec(t) {
        Ok(c) => c,
        Err(e) => return (String::new(), Err(e)),
    };
    let mut out = String::new();
    let mut src = BytesMut::from(input);
    let mut start = 0usize;
    let mut n = 0usize;
    loop {
        let before = src.len();
        match codec.decode(&mut src) {
            Ok(Some(frame)) => {
                let len = before - src.len();
                n += 1;
                match view {
                    View::Json => {
                        let _ = writeln!(out, "{}", frame.to_json());
                    }
                    View::Tree => tree(&mut out, &codec, n, start, &input[start..start + len]),
                }
                start += len;
            }
            Ok(None) if src.is_empty() => {
                return match n {
                    0 => (out, Err("no frame in the input".into())),
                    _ => (out, Ok(())),
                };
            }
            Ok(None) => {
                return (
                    out,
                    Err(format!(
                        "frame {} (byte {start} of the input): the input ends inside it ({} byte(s) of it given)",
                        n + 1,
                        src.len()
                    )),
                );
            }
            Err(e) => {
                if view == View::Tree {
                    // What was read of the frame before the error.
                    let (_, nodes) = codec.trace(&input[start..]);
                    let _ = writeln!(out, "frame {} @{start} (does not decode)", n + 1);
                    show(&mut out, &nodes);
                }
                return (
                    out,
                    Err(format!("frame {} (byte {start} of the input): {e}", n + 1)),
                );
            }
        }
    }
}

fn tree(out: &mut String, codec: &DynCodec, n: usize, start: usize, frame: &[u8]) {
    let (_, nodes) = codec.trace(frame);
    let _ = writeln!(out, "frame {n} @{start} ({} bytes)", frame.len());
    show(out, &nodes);
}

fn show(out: &mut String, nodes: &[polywire_dynamic::Node]) {
    for node in nodes {
        let indent = "  ".repeat(node.depth + 1);
        let place = format!("[{}..{}]", node.start, node.end);
        let _ = match &node.value {
            Some(v) => writeln!(out, "{indent}{} {place} = {v}", node.name),
            None => writeln!(out, "{indent}{} {place}", node.name),
        };
    }
}

/// Every JSON value of `input` (one, or several one after another) encoded as a frame,
/// written as `form`: hex and base64 one frame per line, raw bytes back to back.
pub fn encode(t: &Target<'_>, input: &str, form: Bytes) -> Result<Vec<u8>, String> {
    let mut codec = codec(t)?;
    let schema = codec.schema().clone();
    let ty = match t.message {
        Some(m) => schema.message(m),
        None => schema.ir().frame,
    }
    .ok_or("no such message")?;
    let mut out = Vec::new();
    let values = serde_json::Deserializer::from_str(input).into_iter::<serde_json::Value>();
    let mut n = 0;
    for (i, j) in values.enumerate() {
        let j = j.map_err(|e| format!("JSON value {}: {e}", i + 1))?;
        let v = schema
            .value_from_json(ty, &j)
            .map_err(|e| format!("JSON value {}: {e}", i + 1))?;
        let mut dst = BytesMut::new();
        codec
            .encode(&v, &mut dst)
            .map_err(|e| format!("JSON value {}: {e}", i + 1))?;
        match form {
            Bytes::Raw => out.extend_from_slice(&dst),
            Bytes::Hex => {
                out.extend(crate::to_hex(&dst).into_bytes());
                out.push(b'\n');
            }
            Bytes::Base64 => {
                out.extend(
                    base64::engine::general_purpose::STANDARD
                        .encode(&dst)
                        .into_bytes(),
                );
                out.push(b'\n');
            }
        }
        n += 1;
    }
    if n == 0 {
        return Err("no JSON value in the input".into());
    }
    Ok(out)
}

/// `probe`: connects to `addr`, sends every JSON value of `input` encoded as a frame (as
/// the client), and reads what the server answers (as its frames) until `answers` frames
/// came (default: one per frame sent), the server closes, or `wait` passes. A protocol
/// with a `handshake` first offers every version it has and speaks the one agreed (printed
/// as the first line). With TLS ([`Security::Tls`](crate::conn::Security)) the frames go
/// through a TLS session, set up first.
pub fn probe(
    t: &Target<'_>,
    addr: &str,
    security: &crate::conn::Security,
    input: &str,
    answers: Option<usize>,
    wait: std::time::Duration,
) -> (String, Result<(), String>) {
    use std::io::{Read, Write};
    let mut out = String::new();
    let sent = match encode(
        &Target {
            side: t.side.or(Some(Side::Client)),
            ..*t
        },
        input,
        Bytes::Raw,
    ) {
        Ok(b) => b,
        Err(e) => return (out, Err(e)),
    };
    let mut codec = match codec(&Target {
        side: Some(Side::Server),
        ..*t
    }) {
        Ok(c) => c,
        Err(e) => return (out, Err(e)),
    };
    let count = input_values(input);
    let want = answers.unwrap_or(count);
    let deadline = std::time::Instant::now() + wait;
    let mut stream = match crate::conn::Conn::connect(addr, security, deadline) {
        Ok(s) => s,
        Err(e) => return (out, Err(e)),
    };
    // A server that takes TLS alone closes a plaintext connection at its first bytes.
    let hint = if stream.tls {
        ""
    } else {
        " (a port that takes TLS alone does this to plaintext: try --tls)"
    };
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    // A protocol with a `handshake` block: offer every version, then speak the agreed one.
    if codec.schema().ir().handshake.is_some() {
        let proto = match polywire_dynamic::DynProtocol::new(codec.schema()) {
            Ok(p) => p,
            Err(e) => return (out, Err(e.to_string())),
        };
        let Some(h) = polywire::Protocol::handshake(&proto) else {
            return (out, Err("the handshake is missing".into()));
        };
        let (min, max) = h.versions();
        let mut hello = BytesMut::new();
        if let Err(e) = h.client_hello(min, max, u64::MAX, &mut hello) {
            return (out, Err(format!("cannot write the hello: {e}")));
        }
        if let Err(e) = stream.write_all(&hello) {
            return (out, Err(format!("cannot send: {e}{hint}")));
        }
        loop {
            match h.client_read_reply(&mut buf) {
                Ok(polywire::HandshakeEvent::Done(n)) => {
                    codec.set_version(n.version);
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::json!({"handshake": {"version": n.version, "features": n.features}})
                    );
                    break;
                }
                Ok(polywire::HandshakeEvent::Rejected { min, max }) => {
                    return (
                        out,
                        Err(format!(
                            "the server refused every version we offered (it speaks {min} to {max})"
                        )),
                    );
                }
                Ok(polywire::HandshakeEvent::NeedMore) => {}
                Err(e) => return (out, Err(format!("the server's handshake answer: {e}"))),
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return (out, Err("no handshake answer in time".into()));
            }
            stream.set_read_timeout(left);
            match stream.read(&mut chunk) {
                Ok(0) => {
                    return (
                        out,
                        Err(format!(
                            "the server closed the connection during the handshake{hint}"
                        )),
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return (
                        out,
                        Err("the server closed the connection during the handshake".into()),
                    );
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return (out, Err(read_error(&e, 0, hint))),
            }
        }
    }
    if let Err(e) = stream.write_all(&sent).and_then(|()| stream.flush()) {
        return (out, Err(format!("cannot send: {e}{hint}")));
    }
    let mut got = 0;
    while got < want {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return (
                out,
                Err(format!(
                    "{got} of {want} answer(s) within {} ms",
                    wait.as_millis()
                )),
            );
        }
        stream.set_read_timeout(left);
        let n = match stream.read(&mut chunk) {
            Ok(0) => return (out, Err(closed(got, want, hint))),
            // A TLS session that ends without its closing alert.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return (out, Err(closed(got, want, hint)));
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                return (
                    out,
                    Err(read_error(&e, got, if got == 0 { hint } else { "" })),
                );
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    got += 1;
                    let _ = writeln!(out, "{}", frame.to_json());
                }
                Ok(None) => break,
                Err(e) => return (out, Err(format!("answer {}: {e}", got + 1))),
            }
        }
    }
    (out, Ok(()))
}

/// The server closed the connection after `got` of `want` answers.
fn closed(got: usize, want: usize, hint: &str) -> String {
    let hint = if got == 0 { hint } else { "" };
    format!("the server closed the connection after {got} of {want} answer(s){hint}")
}

/// A failed read, after `got` answers; a reset connection gets `hint`.
fn read_error(e: &std::io::Error, got: usize, hint: &str) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted => {
            format!("the server reset the connection after {got} answer(s){hint}")
        }
        _ => format!("cannot read: {e}"),
    }
}

/// How many JSON values `input` holds.
fn input_values(input: &str) -> usize {
    serde_json::Deserializer::from_str(input)
        .into_iter::<serde_json::Value>()
        .filter(Result::is_ok)
        .count()
}
