//! HTTP/2 as a transport for any protocol, cleartext (prior knowledge) or inside TLS (ALPN
//! `h2`): one request per stream, so that a proxy can route and balance each call.
//!
//! ```text
//! POST /<protocol id>/<request code>      content-type: application/x-polywire
//! polywire-version: 3                     (protocols with a handshake)
//! polywire-features: 7
//! body: one frame, exactly as on TCP  ──▶  200, body: the response frame (empty for oneway)
//!
//! POST /<protocol id>/handshake           body: the handshake hello ──▶ 200, body: the reply
//! ```
//!
//! Errors are HTTP statuses with a text body saying what was wrong: 404 (no such protocol
//! or path), 405 (not POST), 413 (a body over the protocol's frame limit, refused before it
//! is read), 400 (a body that is not one whole frame, or a version the server does not
//! speak), 503 (the protocol's server was shut down). A connection holds at most 32 MiB of
//! request bodies over all its streams; a body's room is taken whole before it is read. A
//! connection's requests go to the servers registered when it opened, as connections of
//! other transports stay with theirs.
//!
//! The client side, [`H2Io`], turns the requests' answers back into the byte stream the
//! protocol's client reads; a request whose stream fails gets the protocol's error
//! response, so only that call fails.

use super::{FrameInfo, Framing, Layer, Rewind, TransportKind, Upgrade, Verdict};
use crate::codec::FrameKind;
use crate::protocol::Negotiated;
use crate::rt::{BoxFuture, CallError, Io, MultiServer, MultiServerConfig, ProtocolServer};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use h2::RecvStream;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The content type of request and response bodies.
pub const CONTENT_TYPE: &str = "application/x-polywire";
/// The header carrying the negotiated version.
pub const VERSION_HEADER: &str = "polywire-version";
/// The header carrying the negotiated feature bits.
pub const FEATURES_HEADER: &str = "polywire-features";
/// The last path segment of a handshake request.
pub const HANDSHAKE_PATH: &str = "handshake";

/// Flow-control windows: HTTP/2's defaults (64 KiB for a stream and for the whole
/// connection) stall a connection with a few dozen calls of a KiB in flight.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

/// The HTTP/1.1 connection preface of HTTP/2 (prior knowledge, or inside TLS after ALPN).
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// HTTP/2 on a [`MultiServer`]'s ports (loadable from an `[http2]`
/// section).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct H2Settings {
    /// Streams (calls) a connection may have open at once.
    pub max_concurrent_streams: u32,
}

impl Default for H2Settings {
    fn default() -> Self {
        H2Settings {
            max_concurrent_streams: 1024,
        }
    }
}

/// Whether `first` holds, or may still become, the HTTP/2 preface.
pub(crate) fn looks_like_h2(first: &[u8]) -> Verdict {
    super::opens_with(first, PREFACE)
}

/// HTTP/2 on a shared port, when the server's configuration has it.
pub(crate) fn upgrade(config: &MultiServerConfig) -> Option<Arc<dyn Upgrade>> {
    let settings = config.http2.clone()?;
    Some(Arc::new(H2Upgrade(settings)))
}

/// HTTP/2 as a shared port finds it: its preface, plain (prior knowledge) or inside TLS.
/// Each request goes to the protocol its path names.
struct H2Upgrade(H2Settings);

impl Upgrade for H2Upgrade {
    fn detect(&self, first: &[u8], layer: Layer) -> Verdict {
        match layer {
            Layer::Message => Verdict::No,
            _ => looks_like_h2(first),
        }
    }

    fn accept(
        &self,
        server: &MultiServer,
        io: Box<dyn Io>,
        first: BytesMut,
        peer: String,
        layer: Layer,
    ) -> BoxFuture<()> {
        // The protocols registered now serve this connection's requests for its life, as a
        // connection of any other transport stays with its server.
        let servers = server.servers();
        let lookup = move |id: &str| servers.iter().find(|s| s.id() == id).cloned();
        let shutdown = server.shutdown_token();
        let kind = if layer.secure() {
            TransportKind::H2
        } else {
            TransportKind::H2c
        };
        let settings = self.0.clone();
        Box::pin(serve(
            Rewind::new(first, io),
            peer,
            kind,
            lookup,
            settings,
            shutdown,
        ))
    }
}

/// Serves one HTTP/2 connection: each request goes to the server `lookup` finds for the
/// protocol id in its path when it arrives.
pub(crate) async fn serve<S, L>(
    io: S,
    peer: String,
    transport: TransportKind,
    lookup: L,
    settings: H2Settings,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    L: Fn(&str) -> Option<Arc<dyn ProtocolServer>> + Send + Sync + 'static,
{
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(settings.max_concurrent_streams)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(io);
    let mut conn = match handshake.await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "HTTP/2 handshake failed; closing");
            return;
        }
    };
    // The calls in progress run inside this task, beside the connection: a batch of
    // requests read together is answered together, in one write.
    let budget = Semaphore::new(BODY_BUDGET);
    let mut calls = FuturesUnordered::new();
    let mut draining = false;
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled(), if !draining => {
                draining = true;
                conn.graceful_shutdown();
                continue;
            }
            Some(()) = calls.next(), if !calls.is_empty() => continue,
            r = conn.accept() => r,
        };
        match next {
            Some(Ok((req, respond))) => {
                let (lookup, budget, peer) = (&lookup, &budget, peer.as_str());
                calls.push(async move {
                    let (head, mut body) = req.into_parts();
                    let answer = answer(head, &mut body, lookup, budget, peer, transport).await;
                    if answer.is_err() {
                        // A refusal before (all of) the body was read: take the rest and
                        // drop it (up to a bound), so the client sees the answer rather than
                        // a reset stream.
                        discard(&mut body, DRAIN).await;
                    }
                    send_answer(respond, answer);
                });
            }
            Some(Err(e)) => {
                tracing::debug!(%peer, error = %e, "HTTP/2 connection failed");
                return;
            }
            None => return,
        }
    }
}

type Answer = Result<Bytes, (StatusCode, String)>;

fn send_answer(mut respond: h2::server::SendResponse<Bytes>, answer: Answer) {
    let (status, ctype, body) = match answer {
        Ok(b) => (StatusCode::OK, CONTENT_TYPE, b),
        Err((s, msg)) => (s, "text/plain; charset=utf-8", Bytes::from(msg + "\n")),
    };
    let resp = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, ctype)
        .body(())
        .expect("a response of constant parts");
    match respond.send_response(resp, body.is_empty()) {
        Ok(mut stream) if !body.is_empty() => {
            let _ = stream.send_data(body, true);
        }
        _ => {}
    }
}

/// The most of a refused request's body read (and dropped) before answering.
const DRAIN: usize = 64 << 20;

/// Request body bytes a connection holds at most, over all its streams (a body larger
/// than this, where a protocol allows one, is read alone).
const BODY_BUDGET: usize = 32 << 20;

async fn answer<L>(
    req: http::request::Parts,
    body: &mut RecvStream,
    lookup: &L,
    budget: &Semaphore,
    peer: &str,
    transport: TransportKind,
) -> Answer
where
    L: Fn(&str) -> Option<Arc<dyn ProtocolServer>>,
{
    let bad = |msg: String| (StatusCode::BAD_REQUEST, msg);
    if req.method != Method::POST {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not served: calls are POST", req.method),
        ));
    }
    let path = req.uri.path().to_string();
    let Some((id, what)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("{path}: paths are /<protocol>/<request code>"),
        ));
    };
    let Some(server) = lookup(id) else {
        return Err((StatusCode::NOT_FOUND, format!("no protocol {id:?} here")));
    };
    let hello = what == HANDSHAKE_PATH;
    if !hello && what.parse::<i64>().is_err() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("{path}: the last segment is a request code or `{HANDSHAKE_PATH}`"),
        ));
    }
    let limit = server.framing().max_frame_len();
    let announced = req
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if let Some(len) = announced.filter(|&len| len > limit) {
        return Err(too_large(len, limit));
    }
    let negotiated = negotiated(&req.headers).map_err(bad)?;
    // The body's room in the connection's budget, taken whole before any of it is read
    // (all the protocol allows when the length is not announced), so that bodies read side
    // by side never hold more than the budget and never wait on each other half-read.
    let room = announced.unwrap_or(limit).min(BODY_BUDGET) as u32;
    let _room = budget
        .acquire_many(room)
        .await
        .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "closing".to_string()))?;
    let body = read_body(body, limit).await?;
    if hello {
        return match server.accept_hello(body) {
            Ok(reply) => Ok(reply.freeze()),
            Err(e @ CallError::NoHandshake) => Err((StatusCode::NOT_FOUND, e.to_string())),
            Err(e) => Err(bad(e.to_string())),
        };
    }
    match server.call(body, peer, transport, negotiated).await {
        Ok(resp) => Ok(resp.freeze()),
        Err(e @ CallError::ShutDown) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// The version and features a request says were negotiated.
fn negotiated(headers: &HeaderMap) -> Result<Option<Negotiated>, String> {
    let num = |name: &str| -> Result<Option<u64>, String> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| format!("{name}: {v:?} is not a number"))
            })
            .transpose()
    };
    let Some(version) = num(VERSION_HEADER)? else {
        return Ok(None);
    };
    let version =
        u32::try_from(version).map_err(|_| format!("{VERSION_HEADER}: {version} is too large"))?;
    let features = num(FEATURES_HEADER)?.unwrap_or(0);
    Ok(Some(Negotiated { version, features }))
}

fn too_large(len: usize, limit: usize) -> (StatusCode, String) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("a body of {len} bytes; the protocol's frames are at most {limit}"),
    )
}

/// Reads and drops what is left of a body, up to `max` bytes.
async fn discard(body: &mut RecvStream, max: usize) {
    let mut seen = 0;
    while seen < max
        && let Some(Ok(chunk)) = body.data().await
    {
        let _ = body.flow_control().release_capacity(chunk.len());
        seen += chunk.len();
    }
}

/// Reads a request body of at most `limit` bytes (a larger one is refused when it passes
/// the limit).
async fn read_body(body: &mut RecvStream, limit: usize) -> Result<BytesMut, (StatusCode, String)> {
    collect(body, limit).await.map_err(|e| match e {
        BodyError::TooLarge(n) => too_large(n, limit),
        BodyError::Stream(e) => (StatusCode::BAD_REQUEST, format!("body: {e}")),
    })
}

/// Why a body was not read whole.
enum BodyError {
    /// It passed the limit at this many bytes.
    TooLarge(usize),
    /// The stream failed.
    Stream(h2::Error),
}

/// A whole body (request or answer) of at most `limit` bytes, its flow-control capacity
/// given back as it is read.
async fn collect(body: &mut RecvStream, limit: usize) -> Result<BytesMut, BodyError> {
    let mut out = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(BodyError::Stream)?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if out.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(out.len() + chunk.len()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The client side: an HTTP/2 connection as the byte stream a protocol's client drives.
/// Each frame written becomes a request on its own stream (the first message a hello, for
/// protocols with a handshake), sent when the stream is flushed; each answer's body is read
/// back as the answers arrive. A request that fails (a refused stream, a non-200 status) is
/// answered with the protocol's error response for it, so that only that call fails.
pub struct H2Io {
    send: h2::client::SendRequest<Bytes>,
    framing: Framing,
    base: Arc<str>,
    negotiated: Option<Negotiated>,
    raw_next: bool,
    out: BytesMut,
    /// Messages cut from `out`, waiting for the connection to take another stream.
    queued: VecDeque<(Bytes, Option<FrameInfo>)>,
    /// The calls sent and not yet answered.
    calls: FuturesUnordered<BoxFuture<Call>>,
    /// The reader, when it waits with no call in progress.
    reader: Option<Waker>,
    /// Why the connection ended, once it has.
    ended: tokio::sync::oneshot::Receiver<std::io::Error>,
    inbuf: Bytes,
    /// An error to report at the next read (after the answers before it).
    failed: Option<std::io::Error>,
}

/// A finished call: what it was (`None`: the hello) and its status and body.
type Call = (Option<FrameInfo>, Result<(StatusCode, Bytes), String>);

impl H2Io {
    /// Starts HTTP/2 on `stream` (plain, or TLS that agreed on `h2`) to `authority`, for a
    /// client of the protocol `framing` describes.
    pub async fn connect<S>(
        stream: S,
        authority: &str,
        secure: bool,
        framing: Framing,
    ) -> Result<H2Io, String>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // The client's preface goes out without waiting for the server's: the connection
        // counts as open once the server has said something (its SETTINGS), so that a port
        // without HTTP/2, which closes, is a refused attempt and not a dead connection.
        let (heard, answered) = tokio::sync::oneshot::channel();
        let stream = FirstRead {
            inner: stream,
            heard: Some(heard),
        };
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(stream)
            .await
            .map_err(|e| format!("HTTP/2: {e}"))?;
        let (end, ended) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let why = match conn.await {
                Ok(()) => std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                Err(e) => std::io::Error::other(e),
            };
            let _ = end.send(why);
        });
        if answered.await != Ok(true) {
            return Err("HTTP/2: the server closed the connection without answering".into());
        }
        let scheme = if secure { "https" } else { "http" };
        Ok(H2Io {
            send,
            raw_next: framing.has_handshake(),
            framing,
            base: format!("{scheme}://{authority}").into(),
            negotiated: None,
            out: BytesMut::new(),
            queued: VecDeque::new(),
            calls: FuturesUnordered::new(),
            reader: None,
            ended,
            inbuf: Bytes::new(),
            failed: None,
        })
    }

    /// The request carrying a message of `len` bytes (a hello when `info` is `None`).
    fn request(&self, info: Option<&FrameInfo>, len: usize) -> std::io::Result<Request<()>> {
        let last = match info {
            None => HANDSHAKE_PATH.to_string(),
            Some(i) => i.code.to_string(),
        };
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/{}/{last}", self.base, self.framing.id()))
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(http::header::CONTENT_LENGTH, len);
        if let Some(n) = self.negotiated {
            req = req
                .header(VERSION_HEADER, n.version)
                .header(FEATURES_HEADER, n.features);
        }
        req.body(())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    }

    /// Sends the queued messages while the connection takes streams.
    fn send_queued(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut sent = false;
        while let Some((msg, info)) = self.queued.front() {
            if let Err(e) = ready!(self.send.poll_ready(cx)) {
                return Poll::Ready(Err(std::io::Error::other(e)));
            }
            let req = self.request(info.as_ref(), msg.len())?;
            let (msg, info) = (msg.clone(), *info);
            self.queued.pop_front();
            let limit = self.framing.max_frame_len();
            let call: BoxFuture<Call> = match self.send.send_request(req, false) {
                Ok((answer, mut body)) => {
                    let sent = body.send_data(msg, true).map_err(|e| e.to_string());
                    Box::pin(async move { (info, receive(sent.map(|()| answer), limit).await) })
                }
                Err(e) => {
                    let e = e.to_string();
                    Box::pin(async move { (info, Err(e)) })
                }
            };
            self.calls.push(call);
            sent = true;
        }
        if sent && let Some(w) = self.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }

    /// What a finished call gives the reader: its answer's bytes (or the protocol's error
    /// response for it), nothing (oneway), or an error that ends the connection (a failed
    /// hello).
    fn settle(&mut self, (info, res): Call) -> std::io::Result<Option<Bytes>> {
        match (info, res) {
            (None, Ok((StatusCode::OK, body))) => {
                self.negotiated = self.framing.read_reply(&body);
                Ok(Some(body))
            }
            (None, Ok((status, body))) => Err(std::io::Error::other(format!(
                "handshake: HTTP {status}: {}",
                String::from_utf8_lossy(&body).trim_end()
            ))),
            (None, Err(e)) => Err(std::io::Error::other(format!("handshake: {e}"))),
            (Some(i), Ok((StatusCode::OK, body))) => {
                Ok((i.kind != FrameKind::Oneway).then_some(body))
            }
            (Some(i), res) => {
                let why = match res {
                    Ok((status, body)) => {
                        format!(
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(&body).trim_end()
                        )
                    }
                    Err(e) => e,
                };
                tracing::debug!(code = i.code, error = %why, "HTTP/2 call failed");
                if i.kind == FrameKind::Oneway {
                    return Ok(None);
                }
                match self.framing.error_frame(&i, &why) {
                    Some(frame) => Ok(Some(frame)),
                    None => Err(std::io::Error::other(why)),
                }
            }
        }
    }
}

/// A call's answer: its status and whole body (at most `limit` bytes).
async fn receive(
    answer: Result<h2::client::ResponseFuture, String>,
    limit: usize,
) -> Result<(StatusCode, Bytes), String> {
    let resp = answer?.await.map_err(|e| e.to_string())?;
    let status = resp.status();
    match collect(&mut resp.into_body(), limit).await {
        Ok(body) => Ok((status, body.freeze())),
        Err(BodyError::TooLarge(_)) => Err(format!("an answer over {limit} bytes")),
        Err(BodyError::Stream(e)) => Err(e.to_string()),
    }
}

impl AsyncRead for H2Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(e) = self.failed.take() {
            return Poll::Ready(Err(e));
        }
        // Every answer that has arrived and fits: a batch of answers is one read.
        let start = buf.filled().len();
        loop {
            if super::fill(&mut self.inbuf, buf) {
                return Poll::Ready(Ok(()));
            }
            let got = buf.filled().len() > start;
            match self.calls.poll_next_unpin(cx) {
                Poll::Ready(Some(call)) => match self.settle(call) {
                    Ok(Some(b)) => self.inbuf = b,
                    Ok(None) => {}
                    Err(e) if got => {
                        self.failed = Some(e);
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                },
                Poll::Ready(None) | Poll::Pending => {
                    if got {
                        return Poll::Ready(Ok(()));
                    }
                    // No answer now: has the connection ended (the calls still out fail
                    // with it, and come first)?
                    if self.calls.is_empty()
                        && let Poll::Ready(why) = Pin::new(&mut self.ended).poll(cx)
                    {
                        return Poll::Ready(match why {
                            Ok(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
                            Ok(e) => Err(e),
                            Err(_) => Ok(()),
                        });
                    }
                    self.reader = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl AsyncWrite for H2Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while let Some(len) = self.framing.next_message(&self.out, self.raw_next)? {
            let msg = self.out.split_to(len).freeze();
            let info = if std::mem::take(&mut self.raw_next) {
                None
            } else {
                let info = self.framing.describe(&msg);
                Some(info.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?)
            };
            self.queued.push_back((msg, info));
        }
        self.send_queued(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// A stream that says, once, whether its first read brought bytes (`true`) or its end or an
/// error (`false`).
struct FirstRead<S> {
    inner: S,
    heard: Option<tokio::sync::oneshot::Sender<bool>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstRead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if let Some(heard) = self.heard.take() {
            let _ = heard.send(res.is_ok() && buf.filled().len() > before);
        }
        Poll::Ready(res)
    }
}

super::write_through!(FirstRead);
