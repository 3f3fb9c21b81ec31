//! [`RemotingClientFactory`]: the clients of many protocols made from one configuration,
//! each with its protocol's transport and negotiation.
//!
//! The protocol type is the type parameter: every generated protocol is a unit struct, so
//! `factory.create_client::<RocketmqProtocol>()` is RocketMQ's client with RocketMQ's
//! settings. [`ClientBuilder`] sets a client's transport and [`Negotiation`] in code.
//!
//! A configuration file that falls back from HTTP/2 to WebSocket to TCP for one protocol:
//!
//! ```toml
//! [defaults]
//! connect_timeout = "2s"
//! [protocols.polywire-native]
//! fallback = [{ transport = "http2" }, { transport = { websocket = { path = "/polywire" } } }, {}]
//! ```
//!
//! ```no_run
//! # fn demo<P: polywire::protocol::Protocol + Default>(config: polywire::rt::ClientFactoryConfig) {
//! use polywire::rt::{Attempt, Negotiation, RemotingClientFactory, Transport};
//! let factory = RemotingClientFactory::new(config);
//! let client = factory.create_client::<P>();
//! // In code: exactly version 2 over TCP.
//! let pinned = factory
//!     .builder(P::default())
//!     .negotiation(Negotiation::Explicit(Attempt::new(Transport::Tcp).version(2)))
//!     .build();
//! # }
//! ```

use super::client::{Attempt, ClientConfig, Negotiation, RemotingClient};
use super::exchange::{ClientError, MessageClient, MessageConfig};
use super::registry::Io;
use super::transport::Transport;
use super::transport::{Framing, Opened};
use crate::exchange::Exchange;
use crate::protocol::Protocol;
use std::collections::HashMap;

/// What a [`RemotingClientFactory`] makes clients with: defaults, and settings by protocol
/// id. Loadable with serde (from TOML, say): `[defaults]` and `[protocols.<id>]` are each a
/// [`ClientConfig`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientFactoryConfig {
    /// The settings of protocols not named in `protocols`.
    pub defaults: ClientConfig,
    /// Settings by protocol id (each complete: fields left out take `ClientConfig`'s
    /// defaults, not `defaults`').
    pub protocols: HashMap<String, ClientConfig>,
}

impl ClientFactoryConfig {
    /// Reads a configuration file (TOML: `[defaults]`, `[protocols.<id>]`).
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self, super::ConfigError> {
        super::error::read_toml(path.as_ref())
    }

    /// Checks that every protocol the configuration names is one of `known` (the ids of
    /// the protocols this program makes clients of): a misspelt id is an error naming the
    /// known ones, rather than a protocol silently left with the defaults.
    pub fn check_ids(&self, known: &[&str]) -> Result<(), super::ConfigError> {
        super::error::check_ids(self.protocols.keys(), known)
    }
}

/// Opens a connection to `addr` for `attempt`: TCP (or a Unix socket), TLS when it asks,
/// then its transport.
async fn open_stream(
    addr: &str,
    attempt: &Attempt,
    cfg: &ClientConfig,
    framing: Framing,
) -> Result<Box<dyn Io>, String> {
    let stream = Opened::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?
        .boxed();
    let stream = if attempt.tls {
        #[cfg(feature = "tls")]
        {
            let Some(tls) = &cfg.tls else {
                return Err("TLS asked for, but no TLS settings".into());
            };
            let config = if attempt.transport == Transport::Http2 {
                tls.h2_config()
            } else {
                tls.config.clone()
            };
            super::tls::connect(stream, config, tls.server_name.clone())
                .await
                .map_err(|e| e.to_string())?
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = (stream, cfg);
            return Err("TLS is not built in (polywire's `tls` feature)".into());
        }
    } else {
        stream
    };
    attempt
        .transport
        .connect(
            stream,
            super::transport::authority(addr),
            attempt.tls,
            framing,
        )
        .await
}

/// Makes a [`RemotingClient`] for any protocol type, with the settings configured for it.
#[derive(Debug, Clone, Default)]
pub struct RemotingClientFactory {
    config: ClientFactoryConfig,
    #[cfg(feature = "tls")]
    tls: Option<super::ClientTls>,
}

impl RemotingClientFactory {
    /// A factory with these settings.
    pub fn new(config: ClientFactoryConfig) -> Self {
        RemotingClientFactory {
            config,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// TLS settings for every client whose configuration has none of its own (made in
    /// code; a configuration file gives them as a `[tls]` section of a client's settings).
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: super::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The settings of protocol `id`.
    pub fn config_for(&self, id: &str) -> ClientConfig {
        #[allow(unused_mut)]
        let mut config = self
            .config
            .protocols
            .get(id)
            .unwrap_or(&self.config.defaults)
            .clone();
        #[cfg(feature = "tls")]
        if config.tls.is_none() {
            config.tls = self.tls.clone();
        }
        config
    }

    /// Connects a client of a protocol with an `exchange` block (MQTT, say) with the
    /// settings configured for its id: each attempt in turn (`fallback`, else the one
    /// `transport`, inside TLS when the settings have TLS), offering the attempt's versions
    /// highest first in the hello's `@version` field, until the hello's answer accepts one
    /// (`accept if`). Returns the client and the hello's answer.
    pub async fn connect_exchange<E: Exchange>(
        &self,
        exchange: E,
        addr: &str,
        hello: E::Msg,
        config: MessageConfig,
    ) -> Result<(MessageClient<E>, Option<E::Msg>), ClientError> {
        let cfg = self.config_for(exchange.id());
        #[cfg(feature = "tls")]
        let has_tls = cfg.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let has_tls = false;
        let attempts = if cfg.fallback.is_empty() {
            vec![Attempt {
                transport: cfg.transport.clone(),
                tls: has_tls,
                versions: cfg.versions,
            }]
        } else {
            cfg.fallback.clone()
        };
        let mut last = ClientError::Refused(0);
        for attempt in &attempts {
            let negotiation = Negotiation::Explicit(attempt.clone());
            let versions = MessageClient::versions_of(&exchange, &negotiation);
            for v in versions {
                let mut h = hello.clone();
                exchange.set_hello_version(&mut h, v);
                let framing = Framing::of_exchange(&exchange);
                let io = match open_stream(addr, attempt, &cfg, framing).await {
                    Ok(io) => io,
                    Err(e) => {
                        // This attempt's transport does not reach the server: the next one.
                        last = ClientError::Io(e);
                        break;
                    }
                };
                match MessageClient::over(exchange.clone(), io, h, config.clone()).await {
                    Ok((c, Some(a))) if exchange.accepted(&a) => return Ok((c, Some(a))),
                    Ok((c, None)) => return Ok((c, None)),
                    Ok((c, Some(_))) => {
                        c.close().await;
                        last = ClientError::Refused(v);
                    }
                    Err(ClientError::Failed { .. }) | Err(ClientError::Ended(_)) => {
                        last = ClientError::Refused(v);
                    }
                    Err(e) => last = e,
                }
            }
        }
        Err(last)
    }

    /// A client of protocol type `P`, with its configured settings.
    pub fn create_client<P: Protocol + Default>(&self) -> RemotingClient<P> {
        self.builder(P::default()).build()
    }

    /// A builder for a client of `proto`, starting from its configured settings.
    pub fn builder<P: Protocol>(&self, proto: P) -> ClientBuilder<P> {
        let config = self.config_for(proto.id());
        ClientBuilder { proto, config }
    }
}

/// Sets up one client: its transport, TLS and negotiation.
#[derive(Debug)]
pub struct ClientBuilder<P> {
    proto: P,
    config: ClientConfig,
}

impl<P: Protocol> ClientBuilder<P> {
    /// Connects over `transport` only (any fallback list is dropped).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.config.transport = transport;
        self.config.fallback.clear();
        self
    }

    /// Speaks TLS with these settings.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: super::ClientTls) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Negotiates the transport and version this way.
    pub fn negotiation(mut self, negotiation: Negotiation) -> Self {
        negotiation.apply(&mut self.config);
        self
    }

    /// Changes any other setting.
    pub fn configure(mut self, f: impl FnOnce(&mut ClientConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// The settings made so far (for clients of the same protocol made elsewhere).
    pub fn build_config(&self) -> ClientConfig {
        self.config.clone()
    }

    /// The client.
    pub fn build(self) -> RemotingClient<P> {
        RemotingClient::new(self.proto, self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> std::path::PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "polywire-factory-{}-{}.toml",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text).expect("a temporary file");
        path
    }

    #[test]
    fn a_configuration_file_is_read_and_its_ids_checked() {
        let path = file(
            "[defaults]\nconnect_timeout = \"2s\"\n[protocols.polywire-native]\nconnect_timeout = \"5s\"\n",
        );
        let c = ClientFactoryConfig::from_path(&path).expect("valid");
        assert_eq!(
            c.protocols["polywire-native"].connect_timeout,
            std::time::Duration::from_secs(5)
        );
        c.check_ids(&["polywire-native", "rocketmq"])
            .expect("known");
        let e = c
            .check_ids(&["polywire-nativ", "rocketmq"])
            .expect_err("unknown");
        let text = e.to_string();
        assert!(
            text.contains("\"polywire-native\"") && text.contains("rocketmq"),
            "{text}"
        );
        std::fs::remove_file(&path).expect("removed");
    }

    #[test]
    fn a_bad_file_says_where() {
        let path = file("[defaults]\nconect_timeout = \"2s\"\n");
        let e = ClientFactoryConfig::from_path(&path).expect_err("an unknown key");
        let text = e.to_string();
        assert!(
            text.contains("conect_timeout") && text.contains("line 2"),
            "{text}"
        );
        std::fs::remove_file(&path).expect("removed");
        let e = ClientFactoryConfig::from_path(&path).expect_err("no file");
        assert!(matches!(e, crate::rt::ConfigError::Io { .. }), "{e}");
    }
}
