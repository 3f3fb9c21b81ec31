//! The outbound side of a connection: callers append encoded frames to one buffer and a
//! single writer task sends everything queued in one `write_all`. While it writes, new
//! frames accumulate, so under load every syscall carries many frames; the writer yields
//! once before each write so that every caller that is ready gets in first.

use bytes::BytesMut;
use std::sync::Mutex;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

/// Shared outbound buffer of one connection.
#[derive(Debug)]
pub(crate) struct WriteQueue {
    inner: Mutex<Inner>,
    wake_writer: Notify,
    space: Notify,
    high_water: usize,
}

#[derive(Debug)]
struct Inner {
    buf: BytesMut,
    closed: bool,
}

/// The queue was closed (the connection is going away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

impl WriteQueue {
    pub(crate) fn new(high_water: usize) -> Self {
        WriteQueue {
            inner: Mutex::new(Inner {
                buf: BytesMut::with_capacity(16 * 1024),
                closed: false,
            }),
            wake_writer: Notify::new(),
            space: Notify::new(),
            high_water,
        }
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
        let res = f(&mut g.buf);
        drop(g);
        if was_empty {
            self.wake_writer.notify_one();
        }
        Ok(res)
    }

    /// Appends already encoded frames (leaving `src` empty) and wakes the writer.
    pub(crate) fn push_buf(&self, src: &mut BytesMut) -> Result<(), Closed> {
        let mut g = self.lock();
        if g.closed {
            return Err(Closed);
        }
        let was_empty = g.buf.is_empty();
        if was_empty {
            // Hand the whole buffer over; `src` gets the queue's empty one.
            std::mem::swap(&mut g.buf, src);
        } else {
            g.buf.extend_from_slice(src);
            src.clear();
        }
        drop(g);
        if was_empty {
            self.wake_writer.notify_one();
        }
        Ok(())
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

    /// True when producers may queue without waiting.
    pub(crate) fn has_space(&self) -> bool {
        let g = self.lock();
        g.buf.len() <= self.high_water || g.closed
    }

    /// Stops accepting frames; the writer sends what is queued, then shuts the stream down.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake_writer.notify_one();
        self.space.notify_waiters();
    }

    /// The writer task: runs until the queue is closed and drained, or the socket fails.
    /// Returns the bytes written.
    pub(crate) async fn run_writer<W: AsyncWrite + Unpin>(
        &self,
        mut w: W,
        on_write: impl Fn(usize),
    ) -> std::io::Result<()> {
        let mut out = BytesMut::with_capacity(16 * 1024);
        loop {
            self.wake_writer.notified().await;
            // Let every caller that is ready now queue its frame before this write.
            tokio::task::yield_now().await;
            loop {
                // true: the queue is closed and empty.
                let finished = {
                    let mut g = self.lock();
                    if g.buf.is_empty() {
                        Some(g.closed)
                    } else {
                        std::mem::swap(&mut g.buf, &mut out);
                        None
                    }
                };
                match finished {
                    Some(true) => {
                        let _ = w.shutdown().await;
                        return Ok(());
                    }
                    Some(false) => break,
                    None => {}
                }
                self.space.notify_waiters();
                let res = w.write_all(&out).await;
                on_write(out.len());
                out.clear();
                if let Err(e) = res {
                    self.close();
                    return Err(e);
                }
            }
        }
    }
}
