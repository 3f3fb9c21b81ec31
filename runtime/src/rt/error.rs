//! Errors of the remoting layer, kept apart by who is at fault: the caller, the peer, or
//! the network.

use std::time::Duration;

/// Why a remote call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemotingError {
    /// No response within the timeout; a late response is dropped.
    #[error("no response from {addr} within {timeout:?}")]
    Timeout {
        /// The peer.
        addr: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The connection closed before the response arrived.
    #[error("connection to {addr} closed")]
    ConnectionClosed {
        /// The peer.
        addr: String,
    },
    /// Could not connect (or still backing off after a failed attempt).
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The peer.
        addr: String,
        /// What happened.
        reason: String,
    },
    /// The handshake failed or the versions do not overlap.
    #[error("handshake with {addr} failed: {reason}")]
    Handshake {
        /// The peer.
        addr: String,
        /// What happened.
        reason: String,
    },
    /// Too many requests in flight on the connection and the client is set to fail fast.
    #[error("too many requests in flight to {addr} (limit {limit})")]
    TooManyInFlight {
        /// The peer.
        addr: String,
        /// The configured limit.
        limit: usize,
    },
    /// The request could not be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(#[from] crate::EncodeError),
    /// The peer sent bytes that do not decode; the connection was closed.
    #[error("peer sent an invalid frame: {0}")]
    Decode(#[from] crate::DecodeError),
    /// The server answered with an error status.
    #[error("remote error: status {code}")]
    Remote {
        /// The status code.
        code: i64,
    },
    /// A hook refused the request.
    #[error("refused by a hook: {0}")]
    Refused(String),
    /// The client or server is shut down.
    #[error("shut down")]
    Shutdown,
    /// A socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
