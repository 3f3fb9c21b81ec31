//! [`ServerSetup`]: a whole multi-protocol server as one configuration file describes it.

use super::{MultiServer, MultiServerConfig, RemotingServer, ServerConfig};
use crate::protocol::Protocol;
use std::collections::HashMap;
use std::net::SocketAddr;

/// A multi-protocol server's configuration, loadable with serde (from TOML, say): its
/// shared ports and Unix sockets, their detection, TLS, WebSocket and HTTP/2, and per
/// protocol its settings (executor, limits, versions) and ports of its own.
///
/// ```toml
/// listen = ["0.0.0.0:9876"]          # shared by every protocol with a detector
///
/// [shared]                           # a MultiServerConfig
/// detect_timeout = "3s"
/// websocket = { path = "/polywire" }
/// http2 = {}
/// [shared.tls]
/// mode = "permissive"
/// cert = "/etc/polywire/cert.pem"
/// key = "/etc/polywire/key.pem"
///
/// [defaults]                         # a ServerConfig for every protocol not named below
/// idle_timeout = "120s"
///
/// [protocols.rocketmq-remoting]
/// listen = ["0.0.0.0:10911"]         # a port of its own too
/// server = { pool_size = 16 }        # its ServerConfig
/// ```
///
/// ```no_run
/// # async fn demo<P: polywire::protocol::Protocol>(setup: polywire::rt::ServerSetup, proto: P) -> std::io::Result<()> {
/// let multi = setup.multi_server();
/// let server = setup.server(proto); // with its configured settings
/// // ... register its processors
/// multi.add(server).expect("a new protocol id");
/// for (what, addr) in setup.bind(&multi).await? {
///     println!("{what} on {addr}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSetup {
    /// Shared ports: every registered protocol with a detector, and the transports
    /// `shared` turns on.
    pub listen: Vec<String>,
    /// Unix sockets, shared as `listen`'s ports are.
    pub unix: Vec<std::path::PathBuf>,
    /// Detection, TLS, WebSocket and HTTP/2 of the shared ports.
    pub shared: MultiServerConfig,
    /// The settings of protocols not named in `protocols`.
    pub defaults: ServerConfig,
    /// By protocol id: its own settings and ports.
    pub protocols: HashMap<String, ProtocolSetup>,
}

/// One protocol's part of a [`ServerSetup`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtocolSetup {
    /// Ports of its own, where connections need no detection.
    pub listen: Vec<String>,
    /// Its server settings, in place of `defaults` (fields left out take
    /// [`ServerConfig`]'s defaults).
    pub server: Option<ServerConfig>,
}

impl ServerSetup {
    /// Reads a configuration file (TOML, as in the example of [`ServerSetup`]).
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self, super::ConfigError> {
        super::error::read_toml(path.as_ref())
    }

    /// Checks that every protocol the configuration names is one of `known`; [`bind`]
    /// checks the same against the protocols registered by then.
    ///
    /// [`bind`]: ServerSetup::bind
    pub fn check_ids(&self, known: &[&str]) -> Result<(), super::ConfigError> {
        super::error::check_ids(self.protocols.keys(), known)
    }

    /// The settings of protocol `id`.
    pub fn server_config(&self, id: &str) -> ServerConfig {
        self.protocols
            .get(id)
            .and_then(|p| p.server.clone())
            .unwrap_or_else(|| self.defaults.clone())
    }

    /// A server of `proto` with its configured settings.
    pub fn server<P: Protocol>(&self, proto: P) -> RemotingServer<P> {
        let config = self.server_config(proto.id());
        RemotingServer::new(proto, config)
    }

    /// An empty multi-protocol server with the shared ports' settings.
    pub fn multi_server(&self) -> MultiServer {
        MultiServer::new(self.shared.clone())
    }

    /// Starts listening on every configured port of `multi`: the shared ports and Unix
    /// sockets, and each protocol's own ports. Returns what listens where (`"shared"` or
    /// the protocol id; Unix sockets are not listed). A protocol named in the
    /// configuration but not registered is an error, so that a misspelt id does not go
    /// unnoticed.
    pub async fn bind(&self, multi: &MultiServer) -> std::io::Result<Vec<(String, SocketAddr)>> {
        let registered = multi.protocols();
        let mut own = Vec::new();
        for (id, p) in &self.protocols {
            let Some(&id) = registered.iter().find(|r| **r == id.as_str()) else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "the configuration names protocol {id:?}, which is not registered (registered: {registered:?})"
                    ),
                ));
            };
            own.extend(p.listen.iter().map(|addr| (id, addr)));
        }
        let mut bound = Vec::new();
        for addr in &self.listen {
            bound.push(("shared".to_string(), multi.bind(addr.as_str()).await?));
        }
        #[cfg(unix)]
        for path in &self.unix {
            multi.bind_unix(path)?;
        }
        for (id, addr) in own {
            bound.push((
                id.to_string(),
                multi.bind_protocol(id, addr.as_str()).await?,
            ));
        }
        Ok(bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setup_file_is_read_and_its_ids_checked() {
        let path = std::env::temp_dir().join(format!("polywire-setup-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "listen = [\"127.0.0.1:0\"]\n[protocols.rocketmq-remoting]\nlisten = [\"127.0.0.1:0\"]\n",
        )
        .expect("a temporary file");
        let setup = ServerSetup::from_path(&path).expect("valid");
        assert_eq!(setup.listen, ["127.0.0.1:0"]);
        setup.check_ids(&["rocketmq-remoting"]).expect("known");
        let e = setup.check_ids(&["rocketmq"]).expect_err("unknown");
        assert!(e.to_string().contains("rocketmq-remoting"), "{e}");
        std::fs::write(&path, "listen = 7\n").expect("rewritten");
        let e = ServerSetup::from_path(&path).expect_err("not a list");
        assert!(matches!(e, crate::rt::ConfigError::Parse { .. }), "{e}");
        std::fs::remove_file(&path).expect("removed");
    }
}
