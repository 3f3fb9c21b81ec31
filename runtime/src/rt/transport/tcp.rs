//! TCP: the base transport of `host:port` addresses. Connections are accepted with Nagle's
//! algorithm off (before detection, so that a TLS handshake's records go out at once too),
//! and clients open theirs the same way.

use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio_util::sync::CancellationToken;

/// Listens on `addr`; returns the listener and the address it is bound to (useful with
/// port 0).
pub(crate) async fn listen(
    addr: impl ToSocketAddrs,
) -> std::io::Result<(TcpListener, std::net::SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Accepts connections on `listener` until `shutdown`, handing each (Nagle off) with its
/// peer's address to `serve`.
pub(crate) async fn accept(
    listener: TcpListener,
    shutdown: &CancellationToken,
    mut serve: impl FnMut(TcpStream, String),
) {
    let serve = |(stream, peer): (TcpStream, std::net::SocketAddr)| {
        let _ = stream.set_nodelay(true);
        serve(stream, peer.to_string());
    };
    crate::rt::accept_until(shutdown, || listener.accept(), serve).await;
}

/// Opens a connection to `addr` (`host:port`), Nagle off.
pub(crate) async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}
