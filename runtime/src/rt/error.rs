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
    /// The server answered with an error status, and the text its response carries (empty
    /// when it carries none): a handler's [`Status`](crate::Status) arrives here whole.
    #[error("remote error: status {code}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Remote {
        /// The status code.
        code: i64,
        /// The response's message (its `@message` field).
        message: String,
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

/// A configuration file that cannot be used: unreadable, not valid TOML for its type, or
/// naming a protocol this program does not have.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not valid TOML, or not the settings expected (an unknown key, a value
    /// of the wrong type): the parser's message says where.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A protocol id that no registered protocol has (a misspelling, usually).
    #[error("the configuration names protocol {id:?}, which is not one of {known:?}")]
    UnknownProtocol {
        /// The id as written.
        id: String,
        /// The ids this program knows.
        known: Vec<String>,
    },
}

/// Reads `path` as TOML into `T`.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<T, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: shown.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: shown,
        message: e.to_string(),
    })
}

/// Every id in `named` is one of `known`.
pub(crate) fn check_ids<'a>(
    named: impl IntoIterator<Item = &'a String>,
    known: &[&str],
) -> Result<(), ConfigError> {
    let mut named: Vec<&String> = named.into_iter().collect();
    named.sort();
    match named.into_iter().find(|id| !known.contains(&id.as_str())) {
        None => Ok(()),
        Some(id) => Err(ConfigError::UnknownProtocol {
            id: id.clone(),
            known: known.iter().map(|k| k.to_string()).collect(),
        }),
    }
}
