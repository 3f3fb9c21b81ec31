//! WebSocket as a transport for any protocol: after an HTTP/1.1 upgrade on a configurable
//! path, each binary message carries one protocol frame (a protocol with a handshake sends
//! its hello and its reply as one message each, first). [`WsIo`] turns the messages back
//! into the byte stream the protocol's server and client drivers read and write, so no
//! protocol needs WebSocket-specific code.

use super::{Framing, Layer, Rewind, TransportKind, Upgrade, Verdict};
use crate::rt::{BoxFuture, Io, MultiServer, MultiServerConfig};
use bytes::{Bytes, BytesMut};
use futures_util::{Sink, Stream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

/// WebSocket on a [`MultiServer`]'s ports (loadable from a
/// `[websocket]` section: `path = "/polywire"`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsSettings {
    /// The path upgrades are accepted on; other paths are answered 404.
    pub path: String,
    /// The largest message accepted (a frame larger than the protocol's limit is refused by
    /// its codec anyway).
    pub max_message: usize,
    /// Subprotocols the server speaks (`Sec-WebSocket-Protocol`, `["mqtt"]` for MQTT): the
    /// first the client offers that is listed here is the upgrade's answer. Empty: none is
    /// named.
    pub subprotocols: Vec<String>,
}

impl Default for WsSettings {
    fn default() -> Self {
        WsSettings {
            path: "/polywire".into(),
            max_message: 16 << 20,
            subprotocols: Vec::new(),
        }
    }
}

impl WsSettings {
    pub(crate) fn config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message))
    }
}

/// Bytes written and not yet sent past which a write waits for the messages to go out.
const OUT_HIGH: usize = 1 << 20;

/// A WebSocket connection as a byte stream: reads yield the binary messages' payloads in
/// order; writes are cut into one binary message per frame (by the protocol's [`Framing`])
/// when flushed. Before the framing is known (a server detecting the protocol), nothing is
/// written.
pub struct WsIo<S> {
    ws: WebSocketStream<S>,
    framing: Option<Framing>,
    /// The next message is a handshake message: everything written before the flush.
    raw_next: bool,
    out: BytesMut,
    inbuf: Bytes,
}

impl<S> WsIo<S> {
    /// Wraps an upgraded connection; `framing` cuts what is written into messages.
    pub fn new(ws: WebSocketStream<S>, framing: Option<Framing>) -> Self {
        let mut io = WsIo {
            ws,
            framing: None,
            raw_next: false,
            out: BytesMut::new(),
            inbuf: Bytes::new(),
        };
        if let Some(f) = framing {
            io.set_framing(f);
        }
        io
    }

    /// Sets the framing once the protocol is known.
    pub fn set_framing(&mut self, framing: Framing) {
        self.raw_next = framing.has_handshake();
        self.framing = Some(framing);
    }
}

fn io_error(e: tungstenite::Error) -> std::io::Error {
    match e {
        tungstenite::Error::Io(e) => e,
        e => std::io::Error::other(e),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        // As many messages as have arrived and fit, so that a batch of frames is one read
        // (and one pass of the protocol's driver), as it would be on TCP.
        let start = buf.filled().len();
        loop {
            if super::fill(&mut self.inbuf, buf) {
                return Poll::Ready(Ok(()));
            }
            let got = buf.filled().len() > start;
            let next = match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Pending if got => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
                Poll::Ready(next) => next,
            };
            match next {
                Some(Ok(Message::Binary(b))) => self.inbuf = b,
                // Pings are answered by the WebSocket layer.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                // The bytes read so far, then (at the next read) the end.
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                // A peer breaking the rules: the connection closes with an error.
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "a text message: frames travel in binary messages",
                    )));
                }
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.out.len() >= OUT_HIGH {
            ready!(self.as_mut().poll_flush(cx))?;
        }
        self.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        // Part of a frame waits for the rest; nothing goes before the framing is known.
        while let Some(framing) = &this.framing
            && let Some(len) = framing.next_message(&this.out, this.raw_next)?
        {
            ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(io_error)?;
            let msg = this.out.split_to(len).freeze();
            this.raw_next = false;
            Pin::new(&mut this.ws)
                .start_send(Message::Binary(msg))
                .map_err(io_error)?;
        }
        Pin::new(&mut this.ws).poll_flush(cx).map_err(io_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.ws).poll_close(cx).map_err(io_error)
    }
}

/// Upgrades `stream` (a connection, plain or TLS, to `authority`) to WebSocket on `path`,
/// for a client of the protocol `framing` describes.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    authority: &str,
    path: &str,
    secure: bool,
    framing: Framing,
) -> Result<WsIo<S>, String> {
    connect_with(stream, authority, path, secure, framing, &[]).await
}

/// [`connect`] offering `subprotocols` (`Sec-WebSocket-Protocol`, `["mqtt"]` for MQTT).
pub async fn connect_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    authority: &str,
    path: &str,
    secure: bool,
    framing: Framing,
    subprotocols: &[&str],
) -> Result<WsIo<S>, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let scheme = if secure { "wss" } else { "ws" };
    let uri = format!("{scheme}://{authority}{path}");
    let mut request = uri
        .into_client_request()
        .map_err(|e| format!("WebSocket upgrade: {e}"))?;
    if !subprotocols.is_empty() {
        let offered = subprotocols
            .join(", ")
            .parse()
            .map_err(|e| format!("WebSocket subprotocols: {e}"))?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offered);
    }
    let config = WsSettings::default().config();
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(|e| format!("WebSocket upgrade: {e}"))?;
    Ok(WsIo::new(ws, Some(framing)))
}

/// The longest HTTP/1.1 request head read before an upgrade is refused.
const MAX_HEAD: usize = 8 * 1024;

/// Reads the request head that `first` begins (up to [`MAX_HEAD`]) and checks that it asks
/// for a WebSocket upgrade on `settings.path`. On refusal, answers with an HTTP status and
/// a line saying why (after calling `refused`), and returns `false` (the connection is to be
/// closed).
pub(crate) async fn check_upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    first: &mut BytesMut,
    settings: &WsSettings,
    refused: impl FnOnce(),
) -> std::io::Result<bool> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let verdict = loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(first) {
            Ok(httparse::Status::Complete(_)) => break judge(&req, settings),
            Ok(httparse::Status::Partial) if first.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                break Err((431, format!("a request head over {MAX_HEAD} bytes")));
            }
            Err(e) => break Err((400, format!("not an HTTP/1.1 request: {e}"))),
        }
        let want = (MAX_HEAD - first.len()) as u64;
        if (&mut *stream).take(want).read_buf(first).await? == 0 {
            return Ok(false);
        }
    };
    let Err((status, why)) = verdict else {
        return Ok(true);
    };
    refused();
    let reason = match status {
        404 => "Not Found",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{why}\n",
        why.len() + 1
    );
    stream.write_all(answer.as_bytes()).await?;
    stream.shutdown().await?;
    // Take what the client still sends (a little, briefly): closing with bytes unread
    // would reset the connection, and the client could lose the answer.
    let (mut sink, mut rest) = (tokio::io::sink(), (&mut *stream).take(64 * 1024));
    let drain = tokio::io::copy(&mut rest, &mut sink);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
    Ok(false)
}

/// Whether a complete request head asks for an upgrade on the configured path.
fn judge(req: &httparse::Request<'_, '_>, settings: &WsSettings) -> Result<(), (u16, String)> {
    let path = req.path.unwrap_or("");
    let path = path.split('?').next().unwrap_or(path);
    if path != settings.path {
        return Err((
            404,
            format!(
                "nothing at {path}: WebSocket upgrades are taken on {}",
                settings.path
            ),
        ));
    }
    let upgrade = req.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("upgrade")
            && std::str::from_utf8(h.value)
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    });
    if !upgrade {
        return Err((
            426,
            format!("{path} takes WebSocket upgrades only (upgrade: websocket)"),
        ));
    }
    Ok(())
}

/// Accepts the upgrade `stream` starts with (its path and headers checked already by
/// [`check_upgrade`]).
// tungstenite's header callback returns its (large) error response by value.
#[allow(clippy::result_large_err)]
pub(crate) async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    settings: &WsSettings,
) -> Result<WsIo<S>, tungstenite::Error> {
    let ours = settings.subprotocols.clone();
    let pick =
        move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
              mut resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
            let offered = req
                .headers()
                .get_all("sec-websocket-protocol")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .find(|p| ours.iter().any(|o| o == p))
                .and_then(|p| p.parse().ok());
            if let Some(p) = offered {
                resp.headers_mut().insert("sec-websocket-protocol", p);
            }
            Ok(resp)
        };
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, pick, Some(settings.config()))
        .await?;
    Ok(WsIo::new(ws, None))
}

/// Whether `first` is, or can still be, the start of an HTTP/1.1 `GET` request.
pub(crate) fn looks_like_get(first: &[u8]) -> Verdict {
    super::opens_with(first, b"GET ")
}

/// WebSocket on a shared port, when the server's configuration has it.
pub(crate) fn upgrade(config: &MultiServerConfig) -> Option<Arc<dyn Upgrade>> {
    let settings = config.websocket.clone()?;
    Some(Arc::new(WsUpgrade(Arc::new(settings))))
}

/// WebSocket as a shared port finds it: an HTTP/1.1 `GET`, plain or inside TLS, upgraded
/// (after its path and headers are checked); the protocol is then detected in the first
/// messages.
struct WsUpgrade(Arc<WsSettings>);

impl Upgrade for WsUpgrade {
    fn detect(&self, first: &[u8], layer: Layer) -> Verdict {
        match layer {
            Layer::Message => Verdict::No,
            _ => looks_like_get(first),
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
        let (settings, server) = (self.0.clone(), server.clone());
        Box::pin(async move {
            let (mut io, mut first) = (io, first);
            let refused = || server.count_unclaimed();
            let checked = check_upgrade(&mut io, &mut first, &settings, refused);
            if server.setup("WebSocket upgrade", &peer, checked).await != Some(true) {
                return;
            }
            let upgraded = accept(Rewind::new(first, io), &settings);
            let Some(mut ws) = server.setup("WebSocket upgrade", &peer, upgraded).await else {
                return;
            };
            if let Some((protocol, first)) = server.claim_message(&mut ws, &peer).await {
                ws.set_framing(protocol.framing());
                let kind = if layer.secure() {
                    TransportKind::Wss
                } else {
                    TransportKind::Ws
                };
                protocol.serve_io(Box::new(ws), peer, kind, first);
            }
        })
    }
}
