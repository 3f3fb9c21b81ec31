//! The outbound side of a connection.
//!
//! Two ways in, one socket:
//! - [`push`](WriteQueue::push): a caller appends one encoded frame to the shared buffer and
//!   the connection's writer task sends everything queued in one `write_all`. While it
//!   writes, new frames accumulate, so under load every syscall carries many frames; the
//!   writer yields once before each write so that every caller that is ready gets in first.
//! - [`push_buf`](WriteQueue::push_buf): a producer that already holds a batch (a server's
//!   responses to one read, a pipeline's window) writes it straight to the socket when
//!   nothing else is queued or being written, without waking the writer task; whatever
//!   the socket does not take at once is queued for the writer.
//!
//! Only one party writes at a time (the `writing` flag), so frames never interleave and the
//! order in which batches were pushed is the order on the wire.

use super::Metrics;
use bytes::{Buf, BytesMut};
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio::io::AsyncWrite;
use tokio::sync::Notify;

type Sink = Box<dyn AsyncWrite + Send + Unpin>;

/// Shared outbound buffer of one connection.
pub(crate) struct WriteQueue {
    inner: Mutex<Inner>,
    /// The socket, installed by [`run_writer`](Self::run_writer). Locked only around a
    /// single non-blocking poll, by whoever holds `writing`.
    sink: Mutex<Option<Sink>>,
    wake_writer: Notify,
    space: Notify,
    high_water: usize,
    metrics: Arc<Metrics>,
    /// `Inner::buf.len()` and `Inner::closed`, mirrored after every change so that
    /// [`has_space`](WriteQueue::has_space) needs no lock.
    queued: AtomicUsize,
    closed_hint: AtomicBool,
}

struct Inner {
    buf: BytesMut,
    closed: bool,
    /// Someone (the writer task or a direct `push_buf`) is writing to the socket.
    writing: bool,
    /// The sink is installed.
    attached: bool,
    /// The socket failed; nothing more is written.
    failed: bool,
    /// A direct write left bytes inside a stream that buffers (TLS, WebSocket, HTTP/2)
    /// whose flush could not finish: the writer task flushes it, with a waker that the
    /// socket will call when it has room.
    unflushed: bool,
}

/// The queue was closed (the connection is going away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

impl WriteQueue {
    pub(crate) fn new(high_water: usize, metrics: Arc<Metrics>) -> Self {
        WriteQueue {
            inner: Mutex::new(Inner {
                // No buffer until there is something to send (see `push`).
                buf: BytesMut::new(),
                closed: false,
                writing: false,
                attached: false,
                failed: false,
                unflushed: false,
            }),
            sink: Mutex::new(None),
            wake_writer: Notify::new(),
            space: Notify::new(),
            high_water,
            metrics,
            queued: AtomicUsize::new(0),
            closed_hint: AtomicBool::new(false),
        }
    }

    /// Mirrors the buffer's length and the closed flag (called with the lock held).
    fn publish(&self, g: &Inner) {
        self.queued.store(g.buf.len(), Relaxed);
        self.closed_hint.store(g.closed, Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the buffer inconsistent (appends are
        // all-or-nothing in the codecs), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends with `f` (which encodes one frame) and wakes the writer.
    pub(crate) fn push<E>(
        &self,
        f: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<Result<(), E>, Closed> {
        let mut g = self.lock();
        if g.closed {
            return Err(Closed);
        }
        let was_empty = g.buf.is_empty();
        if g.buf.capacity() == 0
            && let Some(spare) = super::spare::take(super::MIN_READ)
        {
            g.buf = spare;
        }
        let res = f(&mut g.buf);
        self.publish(&g);
        let wake = was_empty && !g.writing;
        drop(g);
        if wake {
            self.wake_writer.notify_one();
        }
        Ok(res)
    }

    /// Sends already encoded frames, leaving `src` empty: straight to the socket when the
    /// queue is idle (as far as the socket takes them without waiting), the rest through
    /// the writer task.
    pub(crate) fn push_buf(&self, src: &mut BytesMut) -> Result<(), Closed> {
        let mut g = self.lock();
        if g.closed {
            return Err(Closed);
        }
        if g.writing || !g.buf.is_empty() || !g.attached || g.failed {
            let wake = g.buf.is_empty() && !g.writing;
            if g.buf.is_empty() {
                // Hand the whole buffer over; `src` gets the queue's empty one.
                std::mem::swap(&mut g.buf, src);
            } else {
                g.buf.extend_from_slice(src);
                src.clear();
            }
            self.publish(&g);
            drop(g);
            if wake {
                self.wake_writer.notify_one();
            }
            return Ok(());
        }
        g.writing = true;
        drop(g);

        let res = self.write_now(src);
        let mut g = self.lock();
        g.writing = false;
        match res {
            Ok(flushed) if src.is_empty() => g.unflushed |= !flushed,
            Ok(_) => {
                // The socket is full: the rest goes first, before anything queued meanwhile.
                if g.buf.is_empty() {
                    std::mem::swap(&mut g.buf, src);
                } else {
                    src.extend_from_slice(&g.buf);
                    std::mem::swap(&mut g.buf, src);
                    src.clear();
                }
            }
            Err(_) => {
                g.failed = true;
                g.closed = true;
                src.clear();
            }
        }
        self.publish(&g);
        let wake = !g.buf.is_empty() || g.closed || g.unflushed;
        drop(g);
        if wake {
            self.wake_writer.notify_one();
        }
        Ok(())
    }

    /// Writes as much of `src` as the socket takes without waiting, removing it from `src`.
    /// Returns whether the stream is flushed: a stream that buffers (TLS) may have taken
    /// all of `src` and still hold some of it, which only a flush with a real waker can
    /// finish (this one has none).
    fn write_now(&self, src: &mut BytesMut) -> std::io::Result<bool> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let Some(w) = sink.as_mut() else {
            return Ok(true);
        };
        while !src.is_empty() {
            match Pin::new(&mut **w).poll_write(&mut cx, src) {
                Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.metrics.bytes_out(n);
                    src.advance(n);
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(false),
            }
        }
        // Streams that buffer (TLS) get the chance to send now; TCP's flush is a no-op.
        match Pin::new(&mut **w).poll_flush(&mut cx) {
            Poll::Ready(Ok(())) => Ok(true),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(false),
        }
    }

    /// Writes all of `out` through the sink, waiting for the socket as needed.
    async fn write_all(&self, out: &mut BytesMut) -> std::io::Result<()> {
        std::future::poll_fn(|cx| {
            let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
            let Some(w) = sink.as_mut() else {
                return Poll::Ready(Err(std::io::ErrorKind::NotConnected.into()));
            };
            while !out.is_empty() {
                match Pin::new(&mut **w).poll_write(cx, out) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        self.metrics.bytes_out(n);
                        out.advance(n);
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Pin::new(&mut **w).poll_flush(cx)
        })
        .await
    }

    /// Waits while more than the high-water mark is queued (backpressure on producers).
    pub(crate) async fn wait_for_space(&self) {
        loop {
            let notified = self.space.notified();
            {
                let g = self.lock();
                if g.buf.len() <= self.high_water || g.closed {
                    return;
                }
            }
            notified.await;
        }
    }

    /// True when producers may queue without waiting (no lock: reads the mirrored length).
    pub(crate) fn has_space(&self) -> bool {
        self.queued.load(Relaxed) <= self.high_water || self.closed_hint.load(Relaxed)
    }

    /// Stops accepting frames; the writer sends what is queued, then shuts the stream down.
    pub(crate) fn close(&self) {
        let mut g = self.lock();
        g.closed = true;
        self.publish(&g);
        drop(g);
        self.wake_writer.notify_one();
        self.space.notify_waiters();
    }

    /// The writer task: installs `w` as the socket and runs until the queue is closed and
    /// drained, or the socket fails.
    pub(crate) async fn run_writer<W: AsyncWrite + Send + Unpin + 'static>(
        &self,
        w: W,
    ) -> std::io::Result<()> {
        *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(w));
        self.lock().attached = true;
        let res = loop {
            self.wake_writer.notified().await;
            // Let every caller that is ready now queue its frame before this write (once the
            // queue is closed none can).
            if !self.closed_hint.load(Relaxed) {
                tokio::task::yield_now().await;
            }
            let finished = loop {
                // What is being written; after the write its buffer is left to the thread's
                // spares, so that a connection with nothing to send holds none.
                let mut out = {
                    let mut g = self.lock();
                    if g.failed {
                        break Some(Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)));
                    }
                    if g.writing {
                        // A direct write owns the socket; it wakes us if it leaves work.
                        break None;
                    }
                    if g.buf.is_empty() && !g.unflushed {
                        break g.closed.then_some(Ok(()));
                    }
                    // With nothing queued, `write_all` only flushes what a direct write left
                    // inside the stream.
                    g.unflushed = false;
                    let out = std::mem::take(&mut g.buf);
                    g.writing = true;
                    self.publish(&g);
                    out
                };
                self.space.notify_waiters();
                let res = self.write_all(&mut out).await;
                super::spare::give(out);
                let mut g = self.lock();
                g.writing = false;
                if let Err(e) = res {
                    g.failed = true;
                    g.closed = true;
                    self.publish(&g);
                    break Some(Err(e));
                }
            };
            if let Some(res) = finished {
                break res;
            }
        };
        self.space.notify_waiters();
        let sink = self.sink.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let (Ok(()), Some(mut w)) = (&res, sink) {
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut w).await;
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A stream that buffers what it is given, as TLS does: `poll_write` always takes the
    /// bytes, and they reach the peer (`sent`) only through `poll_flush`, which answers
    /// `Pending` the first time (the socket is full) and wakes its waker a moment later.
    struct Buffering {
        held: Vec<u8>,
        sent: Arc<Mutex<Vec<u8>>>,
        full: bool,
    }

    impl AsyncWrite for Buffering {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            self.held.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            if self.full && !self.held.is_empty() {
                self.full = false;
                let waker = cx.waker().clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(10));
                    waker.wake();
                });
                return Poll::Pending;
            }
            let held = std::mem::take(&mut self.held);
            self.sent.lock().unwrap().extend_from_slice(&held);
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            self.poll_flush(cx)
        }
    }

    #[tokio::test]
    async fn bytes_a_buffering_stream_holds_after_a_direct_write_are_flushed() {
        let q = Arc::new(WriteQueue::new(1 << 20, Arc::new(Metrics::default())));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let sink = Buffering {
            held: Vec::new(),
            sent: sent.clone(),
            full: true,
        };
        let writer = tokio::spawn({
            let q = q.clone();
            async move { q.run_writer(sink).await }
        });
        while !q.lock().attached {
            tokio::task::yield_now().await;
        }
        // A direct write: the stream takes the bytes but cannot send them yet.
        let mut batch = BytesMut::from(&b"the last answer of a burst"[..]);
        q.push_buf(&mut batch).unwrap();
        assert!(batch.is_empty());
        let mut waited = 0;
        while sent.lock().unwrap().is_empty() && waited < 100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        assert_eq!(
            &sent.lock().unwrap()[..],
            b"the last answer of a burst",
            "the stream kept the bytes: nobody flushed it once the socket had room"
        );
        q.close();
        writer.await.unwrap().unwrap();
    }
}
