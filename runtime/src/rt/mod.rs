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
pub use pipeline::Pipeline;
pub use server::{ProcessError, Processor, RemotingServer, ServerConfig};

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
