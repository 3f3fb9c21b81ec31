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
mod hooks;
mod metrics;
mod pipeline;
pub(crate) mod queue;
mod server;

pub use client::{ClientConfig, ClientConnection, Overload, RemotingClient};
pub use error::RemotingError;
pub use hooks::Hook;
pub use metrics::{Metrics, MetricsSnapshot};
pub use pipeline::{Batch, Pipeline};
pub use server::{
    Immediate, ProcessError, Processor, RemotingServer, Reply, ServerConfig, Session,
};

use crate::protocol::Negotiated;
use std::sync::Arc;

/// What a processor or hook knows about the request's connection.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The peer's address.
    pub peer: Arc<str>,
    /// The protocol id.
    pub protocol: &'static str,
    /// The negotiated version, when the protocol has a handshake.
    pub negotiated: Option<Negotiated>,
    /// A number unique to the connection within this process.
    pub connection_id: u64,
}

/// A boxed, sendable future.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

static NEXT_CONN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

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

/// Bytes a connection's read buffer holds when it is not carrying a larger frame.
const READ_BUF: usize = 64 * 1024;

/// Makes room in a read buffer before the next read. Once the frames decoded from it are
/// gone, the unread tail moves back to the front of the same allocation, so the kernel
/// keeps copying into memory that is already in cache; a new allocation is made only when
/// decoded frames still hold the old one or a frame needs more room.
pub(crate) fn make_room(buf: &mut bytes::BytesMut) {
    if buf.len() <= 4096 && buf.try_reclaim(READ_BUF - buf.len()) {
        return;
    }
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(READ_BUF);
    }
}
