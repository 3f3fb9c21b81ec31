//! What every transport shares: a stream whose first bytes detection read already
//! ([`Rewind`]), and what message transports (WebSocket, HTTP/2) need to know about a
//! protocol's bytes ([`Framing`]) to carry one frame per message without knowing the
//! protocol.

use crate::codec::{Codec, FrameKind};
use crate::error::DecodeError;
use crate::protocol::{ErrorStatus, HandshakeEvent, Negotiated, Protocol, RemotingFrame};
use bytes::{Buf, Bytes, BytesMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

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

impl Framing {
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

/// Whether `first` starts with `pattern`: `Some(true)` once it holds all of it,
/// `Some(false)` once it cannot, `None` while too few bytes have arrived to tell.
#[cfg_attr(not(any(feature = "ws", feature = "h2")), allow(dead_code))]
pub(crate) fn opens_with(first: &[u8], pattern: &[u8]) -> Option<bool> {
    let n = first.len().min(pattern.len());
    if first[..n] != pattern[..n] {
        Some(false)
    } else if n < pattern.len() {
        None
    } else {
        Some(true)
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
        assert_eq!(opens_with(b"", b"GET "), None);
        assert_eq!(opens_with(b"GE", b"GET "), None);
        assert_eq!(opens_with(b"GET ", b"GET "), Some(true));
        assert_eq!(opens_with(b"GET /x", b"GET "), Some(true));
        assert_eq!(opens_with(b"GEX", b"GET "), Some(false));
        assert_eq!(opens_with(b"\0\0", b"GET "), Some(false));
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
