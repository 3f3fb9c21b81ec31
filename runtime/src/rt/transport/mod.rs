//! Transports: what carries a connection's bytes, one module each, shared by servers and
//! clients.
//!
//! | module | accepted | opened by clients |
//! | --- | --- | --- |
//! | [`tcp`] | [`MultiServer::bind`](crate::rt::MultiServer::bind), [`RemotingServer::bind`](crate::rt::RemotingServer::bind) | `host:port` addresses |
//! | [`unix`] | [`MultiServer::bind_unix`](crate::rt::MultiServer::bind_unix) | `unix:<path>` addresses |
//! | `tls` | detected in the first bytes of a shared port's connections | [`Attempt::tls`](crate::rt::Attempt::tls) |
//! | `ws` | detected (an HTTP/1.1 `GET`), plain or inside TLS | [`Transport::WebSocket`] |
//! | `h2` | detected (the HTTP/2 preface), plain or inside TLS | [`Transport::Http2`] |
//!
//! A connection is a base stream (TCP, a Unix socket, or any stream handed to
//! [`MultiServer::serve_io`](crate::rt::MultiServer::serve_io)) with layers on it found by
//! detection: TLS, then WebSocket or HTTP/2, then a protocol. Each layer that detection can
//! find is an `Upgrade`; `upgrades` lists them, in the order they are asked. Every
//! connection is named by a [`TransportKind`] in request contexts and client connections.
//!
//! This module also holds what every transport shares: a stream whose first bytes detection
//! read already ([`Rewind`]), and what message transports (WebSocket, HTTP/2) need to know
//! about a protocol's bytes ([`Framing`]) to carry one frame per message without knowing the
//! protocol.

#[cfg(feature = "h2")]
pub mod h2;
pub mod tcp;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(unix)]
pub mod unix;
#[cfg(feature = "ws")]
pub mod ws;

use crate::codec::{Codec, FrameKind};
use crate::error::DecodeError;
use crate::protocol::{ErrorStatus, HandshakeEvent, Negotiated, Protocol, RemotingFrame};
use crate::rt::{BoxFuture, Io, MultiServer, MultiServerConfig};
use bytes::{Buf, Bytes, BytesMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// What carries a connection, as request contexts, client connections, logs and tests name
/// it. [`Display`](std::fmt::Display) and [`as_str`](Self::as_str) give the short name
/// (`tcp`, `unix`, `stream`, `tls`, `ws`, `wss`, `h2c`, `h2`), which compares equal to the
/// kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// The protocol's bytes on a TCP connection (`tcp`).
    Tcp,
    /// The protocol's bytes on a Unix socket, plaintext (`unix`).
    Unix,
    /// A stream handed to [`MultiServer::serve_io`](crate::rt::MultiServer::serve_io) or
    /// [`RemotingServer::serve_stream`](crate::rt::RemotingServer::serve_stream), or a
    /// [`Session`](crate::rt::Session) driven directly (`stream`).
    Stream,
    /// The protocol's bytes inside TLS (`tls`).
    Tls,
    /// One WebSocket message per frame, plaintext (`ws`).
    Ws,
    /// One WebSocket message per frame, inside TLS (`wss`).
    Wss,
    /// One HTTP/2 request per frame, cleartext (`h2c`).
    H2c,
    /// One HTTP/2 request per frame, inside TLS (`h2`).
    H2,
}

impl TransportKind {
    /// Every kind, in the order of [`index`](Self::index).
    pub const ALL: [TransportKind; 8] = [
        TransportKind::Tcp,
        TransportKind::Unix,
        TransportKind::Stream,
        TransportKind::Tls,
        TransportKind::Ws,
        TransportKind::Wss,
        TransportKind::H2c,
        TransportKind::H2,
    ];

    /// Its position in [`ALL`](Self::ALL).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The short name: `tcp`, `unix`, `stream`, `tls`, `ws`, `wss`, `h2c` or `h2`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Unix => "unix",
            TransportKind::Stream => "stream",
            TransportKind::Tls => "tls",
            TransportKind::Ws => "ws",
            TransportKind::Wss => "wss",
            TransportKind::H2c => "h2c",
            TransportKind::H2 => "h2",
        }
    }

    /// True when the connection is inside TLS.
    pub const fn is_secure(self) -> bool {
        matches!(
            self,
            TransportKind::Tls | TransportKind::Wss | TransportKind::H2
        )
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<str> for TransportKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TransportKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<TransportKind> for &str {
    fn eq(&self, other: &TransportKind) -> bool {
        *self == other.as_str()
    }
}

/// Where detection runs on an accepted connection, which decides what else than a protocol
/// its first bytes may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    /// A connection as accepted (TCP, a Unix socket, a stream): any [`Upgrade`] or a
    /// protocol.
    Outer(TransportKind),
    /// Inside TLS: the upgrades other than TLS, or a protocol.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
    /// Inside a message transport (WebSocket): a protocol only.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    Message,
}

impl Layer {
    /// What carries a protocol found at this layer.
    pub(crate) fn kind(self) -> TransportKind {
        match self {
            Layer::Outer(kind) => kind,
            Layer::Tls => TransportKind::Tls,
            Layer::Message => TransportKind::Stream,
        }
    }

    /// True inside TLS.
    #[cfg_attr(not(any(feature = "ws", feature = "h2")), allow(dead_code))]
    pub(crate) fn secure(self) -> bool {
        self == Layer::Tls
    }
}

/// What an [`Upgrade`] makes of a connection's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// They start this transport.
    Yes,
    /// They may, once more have arrived.
    Undecided,
    /// They do not.
    No,
    /// They do not, and the connection is to be closed, for this reason (plaintext where
    /// TLS is enforced, say).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Refuse(&'static str),
}

/// A transport that a shared port finds in a connection's first bytes and that then takes
/// the connection over: TLS, WebSocket, HTTP/2. Made from the server's configuration by
/// [`upgrades`]; a transport that is not configured has none.
pub(crate) trait Upgrade: Send + Sync + 'static {
    /// What `first`, the bytes read so far at `layer`, say about this transport.
    fn detect(&self, first: &[u8], layer: Layer) -> Verdict;

    /// Takes over `io`, whose first bytes `first` (read at `layer`) start this transport,
    /// and serves it on `server` (detecting the protocol inside it, say) until it closes.
    fn accept(
        &self,
        server: &MultiServer,
        io: Box<dyn Io>,
        first: BytesMut,
        peer: String,
        layer: Layer,
    ) -> BoxFuture<()>;
}

/// The upgrades a shared port of a server with `config` detects, in the order they are
/// asked (TLS first: inside it, the others are asked again).
pub(crate) fn upgrades(config: &MultiServerConfig) -> Vec<Arc<dyn Upgrade>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<dyn Upgrade>> = Vec::new();
    #[cfg(feature = "tls")]
    all.extend(tls::upgrade(config));
    #[cfg(feature = "ws")]
    all.extend(ws::upgrade(config));
    #[cfg(feature = "h2")]
    all.extend(h2::upgrade(config));
    let _ = config;
    all
}

/// What carries a client's frames to its servers: the bytes as they are, WebSocket
/// messages, or HTTP/2 requests (see [`h2`] for the paths). Written in TOML as
/// `transport = "tcp"`, `transport = "http2"` or `transport = { websocket = { path = "/polywire" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// The protocol's bytes on the connection (TCP, or TLS when the client has TLS).
    #[default]
    Tcp,
    /// One WebSocket binary message per frame, after an upgrade on `path`.
    #[serde(rename = "websocket")]
    WebSocket {
        /// The path to upgrade on (a server's `[websocket] path`).
        path: String,
    },
    /// One HTTP/2 request per frame (prior knowledge; with TLS, ALPN `h2`).
    Http2,
}

impl Transport {
    /// WebSocket on the path a [`MultiServer`] uses by default.
    pub fn websocket() -> Self {
        Transport::WebSocket {
            path: "/polywire".into(),
        }
    }

    /// What carries a connection of this transport, inside TLS or not (`tls`): `tcp`,
    /// `tls`, `ws`, `wss`, `h2c` or `h2`.
    pub fn kind(&self, tls: bool) -> TransportKind {
        match (self, tls) {
            (Transport::Tcp, false) => TransportKind::Tcp,
            (Transport::Tcp, true) => TransportKind::Tls,
            (Transport::WebSocket { .. }, false) => TransportKind::Ws,
            (Transport::WebSocket { .. }, true) => TransportKind::Wss,
            (Transport::Http2, false) => TransportKind::H2c,
            (Transport::Http2, true) => TransportKind::H2,
        }
    }

    /// Starts this transport on `stream`, a connection (inside TLS when `secure`) to
    /// `authority`, for a client of the protocol `framing` describes; the stream then
    /// carries the protocol's bytes. Fails with a reason when the server refuses it (or it
    /// is not built in).
    pub(crate) async fn connect(
        &self,
        stream: Box<dyn Io>,
        authority: &str,
        secure: bool,
        framing: Framing,
    ) -> Result<Box<dyn Io>, String> {
        let _ = (authority, &framing);
        match self {
            Transport::Tcp => Ok(stream),
            #[cfg(feature = "ws")]
            Transport::WebSocket { path } => {
                let io = ws::connect(stream, authority, path, secure, framing).await?;
                Ok(Box::new(io))
            }
            #[cfg(feature = "h2")]
            Transport::Http2 => Ok(Box::new(
                h2::H2Io::connect(stream, authority, secure, framing).await?,
            )),
            #[allow(unreachable_patterns)] // with every transport feature on
            other => Err(format!(
                "the {} transport is not built in (polywire's `ws` / `h2` features)",
                other.kind(secure)
            )),
        }
    }
}

/// A connection a client opened to an address: `host:port` over TCP, `unix:<path>` over a
/// Unix socket.
pub(crate) enum Opened {
    /// A TCP connection (Nagle off).
    Tcp(tokio::net::TcpStream),
    /// A Unix socket.
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Opened {
    /// Connects to `addr`.
    pub(crate) async fn connect(addr: &str) -> std::io::Result<Opened> {
        #[cfg(unix)]
        if let Some(path) = unix::path(addr) {
            return unix::connect(path).await.map(Opened::Unix);
        }
        tcp::connect(addr).await.map(Opened::Tcp)
    }

    /// The connection as a stream of any transport.
    pub(crate) fn boxed(self) -> Box<dyn Io> {
        match self {
            Opened::Tcp(s) => Box::new(s),
            #[cfg(unix)]
            Opened::Unix(s) => Box::new(s),
        }
    }
}

/// The host a client's HTTP requests (WebSocket, HTTP/2) name for `addr`: the address
/// itself, or `localhost` for a Unix socket.
pub(crate) fn authority(addr: &str) -> &str {
    #[cfg(unix)]
    if unix::path(addr).is_some() {
        return "localhost";
    }
    addr
}

/// What a message transport knows of a frame without knowing its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The request code (`@code`).
    pub code: i64,
    /// Request, response or oneway.
    pub kind: FrameKind,
    /// The correlation id.
    pub correlation_id: u64,
}

/// A protocol's frame boundaries and the little else a message transport needs: where a
/// frame ends, what a request is (for an HTTP/2 path), an error answer made for a request
/// that the transport failed, and the handshake's result.
#[derive(Clone)]
pub struct Framing(Arc<dyn FrameOps>);

impl std::fmt::Debug for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Framing").field(&self.0.id()).finish()
    }
}

trait FrameOps: Send + Sync + 'static {
    fn id(&self) -> &'static str;
    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError>;
    fn max_frame_len(&self) -> usize;
    fn has_handshake(&self) -> bool;
    fn describe(&self, frame: &[u8]) -> Result<FrameInfo, DecodeError>;
    fn error_frame(&self, request: &FrameInfo, message: &str) -> Option<Bytes>;
    fn read_reply(&self, reply: &[u8]) -> Option<Negotiated>;
}

struct Ops<P: Protocol> {
    proto: Arc<P>,
    codec: P::Codec,
}

impl<P: Protocol> FrameOps for Ops<P> {
    fn id(&self) -> &'static str {
        self.proto.id()
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        self.codec.frame_len(buf)
    }

    fn max_frame_len(&self) -> usize {
        self.codec.limits().max_frame_len
    }

    fn has_handshake(&self) -> bool {
        self.proto.handshake().is_some()
    }

    fn describe(&self, frame: &[u8]) -> Result<FrameInfo, DecodeError> {
        let mut buf = BytesMut::from(frame);
        let mut codec = self.codec.clone();
        let f = codec.decode(&mut buf)?.ok_or_else(|| {
            DecodeError::new(
                frame.len(),
                "frame",
                crate::DecodeErrorKind::Truncated {
                    needed: frame.len() + 1,
                    available: frame.len(),
                },
            )
        })?;
        Ok(FrameInfo {
            code: f.code(),
            kind: f.kind(),
            correlation_id: f.correlation_id(),
        })
    }

    fn error_frame(&self, request: &FrameInfo, message: &str) -> Option<Bytes> {
        let mut f = self
            .proto
            .error_response(request.code, ErrorStatus::SystemError, message);
        f.set_correlation_id(request.correlation_id);
        f.set_kind(FrameKind::Response);
        let mut out = BytesMut::new();
        self.codec.clone().encode(&f, &mut out).ok()?;
        Some(out.freeze())
    }

    fn read_reply(&self, reply: &[u8]) -> Option<Negotiated> {
        match self
            .proto
            .handshake()?
            .client_read_reply(&mut BytesMut::from(reply))
        {
            Ok(HandshakeEvent::Done(n)) => Some(n),
            _ => None,
        }
    }
}

/// A codec's frame boundaries alone: what a protocol with an `exchange` block offers a
/// message transport (no requests on their own, no handshake of their own).
struct CodecOps<C> {
    id: &'static str,
    codec: C,
}

impl<C: Codec + Send + Sync + 'static> FrameOps for CodecOps<C> {
    fn id(&self) -> &'static str {
        self.id
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        self.codec.frame_len(buf)
    }

    fn max_frame_len(&self) -> usize {
        self.codec.limits().max_frame_len
    }

    fn has_handshake(&self) -> bool {
        false
    }

    fn describe(&self, _frame: &[u8]) -> Result<FrameInfo, DecodeError> {
        Err(DecodeError::new(
            0,
            self.id,
            crate::DecodeErrorKind::InvalidField(
                "messages of this protocol are not requests on their own".into(),
            ),
        ))
    }

    fn error_frame(&self, _request: &FrameInfo, _message: &str) -> Option<Bytes> {
        None
    }

    fn read_reply(&self, _reply: &[u8]) -> Option<Negotiated> {
        None
    }
}

impl Framing {
    /// The framing of the frame type `F` of protocol `id`, as a server writes it (a frame
    /// whose members depend on the side is read as the server's).
    pub fn of_framed<F: crate::codec::Framed + Send + Sync + 'static>(id: &'static str) -> Self {
        Framing(Arc::new(CodecOps {
            id,
            codec: crate::codec::FramedCodec::<F>::new().sent_by(crate::wire::Sender::Server),
        }))
    }

    /// The framing of the protocol of `exchange` (generated or loaded at run time), as a
    /// server writes it.
    pub fn of_exchange<E: crate::exchange::Exchange>(exchange: &E) -> Self {
        let mut codec = exchange.codec();
        crate::codec::SessionCodec::set_sender(&mut codec, Some(crate::wire::Sender::Server));
        Framing(Arc::new(CodecOps {
            id: exchange.id(),
            codec,
        }))
    }

    /// The framing of protocol `proto`.
    pub fn of<P: Protocol>(proto: Arc<P>) -> Self {
        let codec = proto.codec();
        Framing(Arc::new(Ops { proto, codec }))
    }

    /// The protocol id.
    pub fn id(&self) -> &'static str {
        self.0.id()
    }

    /// The length of the frame at the front of `buf`, once known (see
    /// [`Codec::frame_len`]).
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        self.0.frame_len(buf)
    }

    /// The largest frame the protocol's limits allow.
    pub fn max_frame_len(&self) -> usize {
        self.0.max_frame_len()
    }

    /// True when a connection starts with a handshake (whose messages are not frames).
    pub fn has_handshake(&self) -> bool {
        self.0.has_handshake()
    }

    /// The code, kind and correlation id of the whole frame `frame` (decoded to find them).
    pub fn describe(&self, frame: &[u8]) -> Result<FrameInfo, DecodeError> {
        self.0.describe(frame)
    }

    /// An encoded error response to `request` carrying `message` (the protocol's
    /// [`error_response`](Protocol::error_response) for a system error).
    pub fn error_frame(&self, request: &FrameInfo, message: &str) -> Option<Bytes> {
        self.0.error_frame(request, message)
    }

    /// The length of the next message to cut from `out`, bytes written to a message
    /// transport: all of it when `hello` (a handshake message), else its first frame once
    /// complete (`None` while part of it is missing).
    #[cfg_attr(not(any(feature = "ws", feature = "h2")), allow(dead_code))]
    pub(crate) fn next_message(&self, out: &[u8], hello: bool) -> std::io::Result<Option<usize>> {
        if out.is_empty() {
            return Ok(None);
        }
        if hello {
            return Ok(Some(out.len()));
        }
        match self.frame_len(out) {
            Ok(Some(n)) if n <= out.len() => Ok(Some(n)),
            Ok(_) => Ok(None),
            Err(e) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
    }

    /// What the server's handshake reply `reply` agreed, if it is a complete acceptance.
    pub fn read_reply(&self, reply: &[u8]) -> Option<Negotiated> {
        self.0.read_reply(reply)
    }
}

/// Whether `first` starts with `pattern`: [`Verdict::Yes`] once it holds all of it,
/// [`Verdict::No`] once it cannot, [`Verdict::Undecided`] while too few bytes have arrived
/// to tell.
#[cfg_attr(not(any(feature = "ws", feature = "h2")), allow(dead_code))]
pub(crate) fn opens_with(first: &[u8], pattern: &[u8]) -> Verdict {
    let n = first.len().min(pattern.len());
    if first[..n] != pattern[..n] {
        Verdict::No
    } else if n < pattern.len() {
        Verdict::Undecided
    } else {
        Verdict::Yes
    }
}

/// Copies what `buf` has room for from the front of `from`; true when `buf` is full.
#[cfg_attr(not(any(feature = "ws", feature = "h2")), allow(dead_code))]
pub(crate) fn fill(from: &mut Bytes, buf: &mut ReadBuf<'_>) -> bool {
    let n = from.len().min(buf.remaining());
    buf.put_slice(&from[..n]);
    from.advance(n);
    buf.remaining() == 0
}

/// A stream whose first bytes were read already (for detection): they are read again
/// first, then the stream itself.
pub struct Rewind<S> {
    first: BytesMut,
    inner: S,
}

impl<S> Rewind<S> {
    /// A stream that reads `first` before `inner`.
    pub fn new(first: BytesMut, inner: S) -> Self {
        Rewind { first, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.first.is_empty() {
            let n = self.first.len().min(buf.remaining());
            buf.put_slice(&self.first[..n]);
            self.first.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Implements `AsyncWrite` for a wrapper `$t<S>` by writing to its `inner` stream as it is
/// (for wrappers that change only how the stream reads).
macro_rules! write_through {
    ($t:ident) => {
        impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $t<S> {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
            }

            fn poll_write_vectored(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }
        }
    };
}
#[cfg_attr(not(feature = "h2"), allow(unused_imports))]
pub(crate) use write_through;

write_through!(Rewind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_with_waits_then_decides() {
        assert_eq!(opens_with(b"", b"GET "), Verdict::Undecided);
        assert_eq!(opens_with(b"GE", b"GET "), Verdict::Undecided);
        assert_eq!(opens_with(b"GET ", b"GET "), Verdict::Yes);
        assert_eq!(opens_with(b"GET /x", b"GET "), Verdict::Yes);
        assert_eq!(opens_with(b"GEX", b"GET "), Verdict::No);
        assert_eq!(opens_with(b"\0\0", b"GET "), Verdict::No);
    }
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn rewind_reads_the_first_bytes_again_then_the_stream() {
        let (mut a, b) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut a, b"world")
            .await
            .unwrap();
        drop(a);
        let mut r = Rewind::new(BytesMut::from(&b"hello "[..]), b);
        let mut out = String::new();
        r.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello world");
    }
}
