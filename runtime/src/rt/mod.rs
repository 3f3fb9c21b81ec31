//! The remoting runtime on tokio: [`RemotingServer`] and [`RemotingClient`] for any
//! [`Protocol`](crate::protocol::Protocol), over TCP or any byte stream.
//!
//! ```text
//!   socket ─read─▶ BytesMut ─Codec::decode─▶ frame ─▶ hooks ─▶ processor (inline or on its executor)
//!                                                                   │
//!   socket ◀─write_all(many frames)─ WriteQueue ◀─Codec::encode─ response ◀─┘
//! ```
//!
//! One task per connection reads and runs processors (as a set of futures, so a slow one
//! does not hold up the others); one writer task per connection sends whatever responses
//! have queued in a single write. Clients correlate responses by the protocol's
//! `@correlation` field, so many requests share one connection.

mod client;
mod error;
mod exchange;
mod factory;
mod hooks;
mod metrics;
mod pipeline;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub(crate) mod queue;
mod registry;
mod server;
mod service;
mod setup;
pub mod transport;

#[cfg(feature = "h2")]
pub use transport::h2;
#[cfg(feature = "tls")]
pub use transport::tls;
#[cfg(feature = "ws")]
pub use transport::ws;

pub use client::{Attempt, ClientConfig, ClientConnection, Negotiation, Overload, RemotingClient};
pub use error::{ConfigError, RemotingError};
pub use exchange::{
    ClientError, Connection, Ended, MessageClient, MessageConfig, MessageHandler, MessageServer,
    PushError,
};
pub use factory::{ClientBuilder, ClientFactoryConfig, RemotingClientFactory};
pub use hooks::Hook;
pub use metrics::{Metrics, MetricsSnapshot};
pub use pipeline::{Batch, Pipeline};
pub use registry::{Io, MultiServer, MultiServerConfig, ProtocolServer, RegistryError};
pub use server::{
    CallError, Immediate, ProcessError, Processor, RemotingServer, Reply, ServerConfig, Session,
};
pub use service::{FrameOf, Payload, Request, ServiceClient};
pub use setup::{ProtocolSetup, ServerSetup};
#[cfg(feature = "tls")]
pub use tls::{ClientTls, ClientTlsFiles, TlsFiles, TlsMode, TlsSettings};
pub use transport::{FrameInfo, Framing, Transport, TransportKind};

use crate::protocol::Negotiated;
use std::sync::Arc;

/// What a processor or hook knows about the request's connection.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The peer's address.
    pub peer: Arc<str>,
    /// The protocol id.
    pub protocol: &'static str,
    /// What carries the connection: `tcp`, `tls`, `ws`, `wss`, `h2c`, `h2` (over TCP or a
    /// Unix socket), `unix` (a Unix socket, plaintext), or `stream` (a stream handed to
    /// `serve_io` / `serve_stream`, or a [`Session`] driven directly).
    pub transport: TransportKind,
    /// The negotiated version, when the protocol has a handshake.
    pub negotiated: Option<Negotiated>,
    /// A number unique to the connection within this process.
    pub connection_id: u64,
}

/// A boxed, sendable future.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

static NEXT_CONN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Runs `connection` (one connection's whole life) as a task of `tracker`, within the
/// server's connection limit and not once it is shutting down, in a `connection` span
/// naming the peer, the transport and the protocol: what every server does with a new
/// connection.
pub(crate) fn spawn_connection(
    connections: &Arc<tokio::sync::Semaphore>,
    limit: usize,
    shutdown: &tokio_util::sync::CancellationToken,
    tracker: &tokio_util::task::TaskTracker,
    (peer, transport, protocol): (&str, TransportKind, &'static str),
    connection: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let Ok(permit) = connections.clone().try_acquire_owned() else {
        tracing::warn!(%peer, limit, "connection limit reached; closing");
        return;
    };
    if shutdown.is_cancelled() {
        return;
    }
    // Everything the connection logs carries who it is; `version` is recorded once the
    // connection has negotiated one.
    let span = tracing::debug_span!(
        "connection",
        %peer,
        %transport,
        protocol,
        version = tracing::field::Empty
    );
    // `map`, not an `async` block awaiting `connection`: such a block keeps the future it
    // captured and the future it awaits in separate places, so every idle connection's task
    // would hold its state twice.
    tracker.spawn(tracing::Instrument::instrument(
        futures_util::FutureExt::map(connection, move |()| drop(permit)),
        span,
    ));
}

pub(crate) fn next_connection_id() -> u64 {
    NEXT_CONN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A hasher for integer keys that are already well spread or sequential (correlation ids,
/// request codes): one multiplication instead of SipHash.
pub(crate) type IdHash = std::hash::BuildHasherDefault<IdHasher>;

#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread sequential keys over the table's buckets (Fibonacci hashing).
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_i64(&mut self, v: i64) {
        self.0 = v as u64;
    }
}

/// Accepts connections with `accept` until `shutdown`, handing each to `serve`. A failed
/// accept (out of file descriptors, say) is logged and retried 10 ms later.
pub(crate) async fn accept_until<C, F>(
    shutdown: &tokio_util::sync::CancellationToken,
    mut accept: impl FnMut() -> F,
    mut serve: impl FnMut(C),
) where
    F: std::future::Future<Output = std::io::Result<C>>,
{
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = accept() => a,
        };
        match accepted {
            Ok(c) => serve(c),
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Room the first read of a connection gets, and the least a read is sized for.
pub(crate) const MIN_READ: usize = 16 * 1024;
/// The most room a read is sized for (a frame larger than that still gets room for all of
/// it, from the codec).
pub(crate) const MAX_READ: usize = 256 * 1024;
/// The bytes a connection reads in a row, without its socket ever making it wait, before
/// [`Inbound::poll_read`] lets the other tasks of its worker run: one full read's worth,
/// about a millisecond of small requests in a release build. Without it a peer that keeps
/// the socket full would be served for as long as tokio's budget of 128 reads lasts (up
/// to 32 MiB), and every other connection on that worker, and the I/O driver it polls,
/// would wait.
pub(crate) const FAIR_SHARE: usize = MAX_READ;

/// Sizes a connection's reads to its traffic, as Netty's adaptive allocator does: a read
/// that fills the room it was given doubles the room wanted, and two reads in a row that
/// take less than a quarter of it halve it. A busy pipelined connection thus takes a whole
/// window of frames per read (so its peer's answer to them goes out in one write), while
/// an idle one keeps a small buffer.
pub(crate) struct ReadSizer {
    /// Room wanted for the next read.
    want: usize,
    /// The room the last [`make_room`](Self::make_room) left.
    room: usize,
    /// Reads in a row that took less than a quarter of `want`.
    small: u8,
}

impl ReadSizer {
    pub(crate) fn new() -> Self {
        ReadSizer {
            want: MIN_READ,
            room: 0,
            small: 0,
        }
    }

    /// True when the next read needs a fresh stretch of buffer: less than half the room
    /// wanted is left after the unread bytes.
    pub(crate) fn short(&self, buf: &bytes::BytesMut) -> bool {
        buf.capacity() - buf.len() < self.want / 2
    }

    /// Makes room in `buf` for the next read: at least half the room wanted. Once the
    /// frames decoded from it are gone, the unread tail moves back to the front of the
    /// same allocation, so the kernel keeps copying into memory that is already in cache; a
    /// new allocation is made only when decoded frames still hold the old one, the room
    /// wanted grew past it, or it is four times larger than wanted (memory goes back once
    /// traffic slows down).
    pub(crate) fn make_room(&mut self, buf: &mut bytes::BytesMut) {
        let want = self.want;
        if buf.is_empty() && buf.capacity() > 4 * want {
            *buf = bytes::BytesMut::with_capacity(want);
        } else if !(buf.len() <= 4096 && buf.try_reclaim(want.saturating_sub(buf.len())))
            && self.short(buf)
        {
            buf.reserve(want);
        }
        self.room = buf.capacity() - buf.len();
    }

    /// Records that the read after [`make_room`](Self::make_room) took `n` bytes.
    pub(crate) fn record(&mut self, n: usize) {
        if n >= self.room {
            self.want = (self.want * 2).min(MAX_READ);
            self.small = 0;
        } else if n < self.want / 4 {
            self.small += 1;
            if self.small >= 2 {
                self.want = (self.want / 2).max(MIN_READ);
                self.small = 0;
            }
        } else {
            self.small = 0;
        }
    }
}

/// Spare buffers of the current thread: connections that wait for input (or a writer that
/// drained its queue) leave their empty buffers here and the next connection with bytes to
/// read or write on this thread takes one, as Netty's per-thread caches do. Idle
/// connections then hold no buffer, while busy ones on the same thread keep reusing the
/// same few allocations instead of going back to the allocator per read. A thread keeps at
/// most [`SPARES`] of them, none smaller than [`MIN_READ`] nor larger than twice
/// [`MAX_READ`].
pub(crate) mod spare {
    use bytes::BytesMut;
    use std::cell::RefCell;

    /// Buffers a thread keeps at most.
    pub(crate) const SPARES: usize = 4;

    thread_local! {
        static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty spare buffer of this thread with room for `want` bytes and not more than
    /// four times that, if there is one.
    pub(crate) fn take(want: usize) -> Option<BytesMut> {
        SPARE
            .try_with(|s| {
                let mut s = s.borrow_mut();
                let i = s
                    .iter()
                    .rposition(|b| b.capacity() >= want && b.capacity() <= 4 * want)?;
                Some(s.swap_remove(i))
            })
            .ok()
            .flatten()
    }

    /// Leaves `buf` (emptied) for the next [`take`] on this thread, or gives it back to
    /// the allocator when the thread already keeps [`SPARES`]. The spares kept are then the
    /// longest-lived buffers, not the latest: an allocator that returns memory from the top
    /// of its heap (glibc) is less often held back by a spare allocated late.
    pub(crate) fn give(mut buf: BytesMut) {
        buf.clear();
        // Room that frames split off the front took comes back once they are gone.
        let _ = buf.try_reclaim(super::MIN_READ);
        // Smaller buffers are never taken (see `take`'s callers): keeping them would only
        // hold memory.
        if buf.capacity() < super::MIN_READ || buf.capacity() > 2 * super::MAX_READ {
            return;
        }
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < SPARES {
                s.push(buf);
            }
        });
    }

    /// Spares this thread keeps.
    #[cfg(test)]
    pub(crate) fn count() -> usize {
        SPARE.with(|s| s.borrow().len())
    }
}

/// A connection's inbound bytes: a buffer sized by a [`ReadSizer`], held only while it has
/// unread bytes in it or the socket has more to give. When a read would wait with nothing
/// buffered, the buffer goes to the thread's [`spare`]s and the connection waits without
/// one; when bytes arrive it takes a spare (the same one, under steady traffic) or, when
/// there is none, allocates. An idle connection thus holds no read buffer, and pipelined
/// traffic does not allocate per read.
pub(crate) struct Inbound {
    /// The unread bytes (no allocation while idle).
    pub(crate) buf: bytes::BytesMut,
    sizer: ReadSizer,
    /// Buffers allocated for this connection's reads (not taken from the spares, nor grown
    /// by [`ReadSizer::make_room`]).
    allocated: u64,
    /// Bytes read since the socket last made the task wait (see [`FAIR_SHARE`]).
    unbroken: usize,
}

impl Inbound {
    /// Inbound bytes starting with `first` (read already, by protocol detection say).
    pub(crate) fn new(first: bytes::BytesMut) -> Self {
        Inbound {
            buf: first,
            sizer: ReadSizer::new(),
            allocated: 0,
            unbroken: 0,
        }
    }

    /// True when the next read needs a fresh stretch of buffer (see [`ReadSizer::short`]);
    /// false while no buffer is held.
    pub(crate) fn short(&self) -> bool {
        self.buf.capacity() > 0 && self.sizer.short(&self.buf)
    }

    /// True while a read buffer is held.
    #[cfg(test)]
    pub(crate) fn holds_buffer(&self) -> bool {
        self.buf.capacity() > 0
    }

    /// Buffers allocated for reads so far (see [`Inbound`]).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> u64 {
        self.allocated
    }

    /// Yields to the other tasks of the worker, and lets it poll the I/O driver, once
    /// [`FAIR_SHARE`] bytes were read in a row without the socket making the task wait.
    pub(crate) async fn fair_turn(&mut self) {
        if self.unbroken >= FAIR_SHARE {
            self.unbroken = 0;
            tokio::task::yield_now().await;
        }
    }

    /// True when the reads in a row since the socket last made the task wait reached
    /// [`FAIR_SHARE`] (see [`fair_turn`](Self::fair_turn)).
    #[cfg(test)]
    pub(crate) fn turn_is_over(&self) -> bool {
        self.unbroken >= FAIR_SHARE
    }

    /// Reads what `rd` has into the buffer (taking one first if none is held); `Ready(0)` at
    /// the end of the stream. On `Pending` with nothing buffered the buffer is given back.
    /// Drivers call [`fair_turn`](Self::fair_turn) before each read.
    pub(crate) fn poll_read<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.buf.capacity() == 0 {
            self.buf = spare::take(self.sizer.want).unwrap_or_else(|| {
                self.allocated += 1;
                bytes::BytesMut::with_capacity(self.sizer.want)
            });
        }
        self.sizer.make_room(&mut self.buf);
        let read = tokio_util::io::poll_read_buf(std::pin::Pin::new(rd), cx, &mut self.buf);
        match &read {
            std::task::Poll::Ready(Ok(n)) if *n > 0 => {
                self.sizer.record(*n);
                self.unbroken += *n;
            }
            std::task::Poll::Pending => {
                self.unbroken = 0;
                if self.buf.is_empty() {
                    spare::give(std::mem::take(&mut self.buf));
                }
            }
            _ => {}
        }
        read
    }
}

#[cfg(test)]
mod tests {
    use super::{Inbound, MAX_READ, MIN_READ, ReadSizer, spare};
    use bytes::{Buf, BytesMut};

    /// Reads `n` bytes into `buf` as a socket would, after `make_room`.
    fn read(s: &mut ReadSizer, buf: &mut BytesMut, n: usize) -> usize {
        s.make_room(buf);
        let room = buf.capacity() - buf.len();
        let n = n.min(room);
        buf.extend_from_slice(&vec![7u8; n]);
        s.record(n);
        room
    }

    #[test]
    fn reads_that_fill_their_room_grow_it_up_to_the_cap() {
        let mut s = ReadSizer::new();
        let mut buf = BytesMut::with_capacity(MIN_READ);
        let mut rooms = Vec::new();
        for _ in 0..8 {
            rooms.push(read(&mut s, &mut buf, usize::MAX));
            buf.clear();
        }
        assert!(rooms[0] >= MIN_READ && rooms[0] < 2 * MIN_READ, "{rooms:?}");
        assert!(rooms.windows(2).all(|w| w[1] >= w[0]), "{rooms:?}");
        assert!(
            rooms[7] >= MAX_READ / 2 && rooms[7] <= 2 * MAX_READ,
            "{rooms:?}"
        );
        assert_eq!(s.want, MAX_READ);
    }

    #[test]
    fn a_whole_window_comes_in_one_read_once_the_size_settles() {
        // 64 frames of about 1 KiB arrive at a time: after a few reads, each read takes
        // all of them.
        let window = 64 * 1037;
        let mut s = ReadSizer::new();
        let mut buf = BytesMut::with_capacity(MIN_READ);
        let mut last = 0;
        for _ in 0..10 {
            let mut left = window;
            let mut reads = 0;
            while left > 0 {
                s.make_room(&mut buf);
                let n = left.min(buf.capacity() - buf.len());
                buf.extend_from_slice(&vec![1u8; n]);
                s.record(n);
                left -= n;
                reads += 1;
            }
            buf.advance(buf.len());
            last = reads;
        }
        assert_eq!(last, 1);
    }

    #[test]
    fn small_reads_shrink_the_room_and_give_memory_back() {
        let mut s = ReadSizer::new();
        let mut buf = BytesMut::with_capacity(MIN_READ);
        for _ in 0..6 {
            read(&mut s, &mut buf, usize::MAX);
            buf.clear();
        }
        assert!(buf.capacity() >= MAX_READ / 2);
        // One small read is not enough to shrink; two in a row are.
        read(&mut s, &mut buf, 100);
        buf.clear();
        assert_eq!(s.want, MAX_READ);
        read(&mut s, &mut buf, 100);
        buf.clear();
        assert_eq!(s.want, MAX_READ / 2);
        for _ in 0..20 {
            read(&mut s, &mut buf, 100);
            buf.clear();
        }
        assert_eq!(s.want, MIN_READ);
        s.make_room(&mut buf);
        assert!(buf.capacity() < 4 * MIN_READ, "{}", buf.capacity());
        // A read of middling size (a quarter or more of the room) keeps it.
        read(&mut s, &mut buf, MIN_READ / 3);
        buf.clear();
        read(&mut s, &mut buf, 10);
        buf.clear();
        read(&mut s, &mut buf, MIN_READ / 3);
        buf.clear();
        read(&mut s, &mut buf, 10);
        assert_eq!(s.want, MIN_READ);
    }

    #[test]
    fn room_is_made_in_place_once_decoded_frames_are_gone() {
        let mut s = ReadSizer::new();
        let mut buf = BytesMut::with_capacity(MIN_READ);
        read(&mut s, &mut buf, 3 * MIN_READ / 4);
        let first = buf.as_ptr();
        // A frame taken out and dropped, a partial one left: the tail moves to the front.
        let frame = buf.split_to(3 * MIN_READ / 4 - 100).freeze();
        drop(frame);
        s.make_room(&mut buf);
        assert_eq!(buf.len(), 100);
        assert_eq!(buf.as_ptr(), first);
        assert!(buf.capacity() - buf.len() >= MIN_READ / 2);
        // While a frame still holds the allocation, the room is elsewhere.
        read(&mut s, &mut buf, MIN_READ);
        let held = buf.split_to(buf.len() - 10).freeze();
        s.make_room(&mut buf);
        assert_ne!(buf.as_ptr(), first);
        assert_eq!(buf.len(), 10);
        // (That read filled the allocation: the 100 bytes left plus the room after them.)
        assert_eq!(held.len(), MIN_READ - 10);
    }

    /// Polls a read once, as a connection's task does before it waits.
    fn poll_once<R: tokio::io::AsyncRead + Unpin>(
        input: &mut Inbound,
        rd: &mut R,
    ) -> Option<usize> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match input.poll_read(rd, &mut cx) {
            std::task::Poll::Ready(r) => Some(r.expect("read")),
            std::task::Poll::Pending => None,
        }
    }

    #[tokio::test]
    async fn an_idle_connection_holds_no_read_buffer() {
        use tokio::io::AsyncWriteExt;
        let (mut peer, mut rd) = tokio::io::duplex(1 << 20);
        let mut input = Inbound::new(BytesMut::new());
        assert!(!input.holds_buffer());
        // Nothing has arrived: the read waits without a buffer.
        assert_eq!(poll_once(&mut input, &mut rd), None);
        assert!(!input.holds_buffer());
        peer.write_all(b"a whole request").await.unwrap();
        assert_eq!(poll_once(&mut input, &mut rd), Some(15));
        assert!(input.holds_buffer());
        // Served: the buffer is empty, and the next read, which waits, gives it back.
        input.buf.clear();
        assert_eq!(poll_once(&mut input, &mut rd), None);
        assert!(!input.holds_buffer());
        assert_eq!(input.buf.capacity(), 0);
        // Part of a frame waits for the rest in its buffer.
        peer.write_all(b"part of").await.unwrap();
        assert_eq!(poll_once(&mut input, &mut rd), Some(7));
        assert_eq!(poll_once(&mut input, &mut rd), None);
        assert!(input.holds_buffer());
        assert_eq!(&input.buf[..], b"part of");
    }

    #[tokio::test]
    async fn pipelined_traffic_reuses_one_read_buffer() {
        use tokio::io::AsyncWriteExt;
        let (mut peer, mut rd) = tokio::io::duplex(1 << 20);
        let mut input = Inbound::new(BytesMut::new());
        let window = vec![9u8; 64 * 1037];
        let mut buffers = std::collections::HashSet::new();
        let mut settled = 0;
        for round in 0..40 {
            if round == 10 {
                settled = input.allocated();
            }
            peer.write_all(&window).await.unwrap();
            let mut left = window.len();
            while left > 0 {
                let n = poll_once(&mut input, &mut rd).expect("bytes are there");
                left -= n;
                if round >= 10 {
                    buffers.insert(input.buf.as_ptr() as usize);
                }
                // The frames are served (and dropped) before the next read.
                let frames = input.buf.split().freeze();
                drop(frames);
            }
            // The connection waits for the next window: it leaves its buffer to the
            // thread's spares and takes it back when bytes come.
            assert_eq!(poll_once(&mut input, &mut rd), None);
            assert!(!input.holds_buffer());
        }
        // Once the room settled (it grows a few times at first), every read went into the
        // same allocation and none came from the allocator.
        assert_eq!(buffers.len(), 1, "{buffers:?}");
        assert_eq!(input.allocated(), settled);
        assert!(settled <= 5, "{settled}");
    }

    #[tokio::test]
    async fn a_socket_that_is_never_drained_gets_a_fair_share_then_yields() {
        // A peer that always has more to give.
        let mut rd = tokio::io::repeat(7);
        let mut input = Inbound::new(BytesMut::new());
        for turn in 0..3 {
            let mut read = 0;
            while !input.turn_is_over() {
                read += poll_once(&mut input, &mut rd).expect("always ready");
                input.buf.clear();
                assert!(read <= 4 * super::FAIR_SHARE, "the turn never ends");
            }
            assert!(read >= super::FAIR_SHARE, "turn {turn}: {read}");
            assert!(read < super::FAIR_SHARE + MAX_READ, "turn {turn}: {read}");
            // The turn ends with a yield, and the next one starts counting afresh.
            {
                let yielded = input.fair_turn();
                tokio::pin!(yielded);
                assert!(futures_poll(yielded.as_mut()).is_pending(), "turn {turn}");
                assert!(futures_poll(yielded.as_mut()).is_ready(), "turn {turn}");
            }
            assert!(!input.turn_is_over());
        }
        // A read that makes the task wait ends the turn too.
        while !input.turn_is_over() {
            poll_once(&mut input, &mut rd);
            input.buf.clear();
        }
        let (_peer, mut quiet) = tokio::io::duplex(64);
        assert_eq!(poll_once(&mut input, &mut quiet), None);
        assert!(!input.turn_is_over());
    }

    /// Polls `f` once.
    fn futures_poll<F: std::future::Future>(
        f: std::pin::Pin<&mut F>,
    ) -> std::task::Poll<F::Output> {
        f.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_thread_keeps_a_bounded_number_of_spares() {
        for _ in 0..3 * spare::SPARES {
            spare::give(BytesMut::with_capacity(MIN_READ));
        }
        assert_eq!(spare::count(), spare::SPARES);
        // Too small or too large to be worth keeping.
        while spare::take(MIN_READ).is_some() {}
        spare::give(BytesMut::with_capacity(100));
        spare::give(BytesMut::with_capacity(4 * MAX_READ));
        assert_eq!(spare::count(), 0);
        // A spare is taken only for a want it fits: not more than four times larger.
        spare::give(BytesMut::with_capacity(MAX_READ));
        assert!(spare::take(MIN_READ).is_none());
        assert!(spare::take(MAX_READ / 2).is_some());
    }
}
