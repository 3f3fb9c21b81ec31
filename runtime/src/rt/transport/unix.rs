//! Unix sockets: the base transport of `unix:<path>` addresses. A shared port on a Unix
//! socket detects protocols and the other transports as a TCP port does; its connections
//! are named `unix:<path>` in logs and request contexts.

use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

/// The prefix of a Unix socket's address.
pub const PREFIX: &str = "unix:";

/// The socket path of a `unix:<path>` address (`None` for any other address).
pub fn path(addr: &str) -> Option<&str> {
    addr.strip_prefix(PREFIX)
}

/// Listens on the socket `path` (which must not exist); returns the listener and the name
/// its connections' peers are given (`unix:<path>`).
pub(crate) fn listen(path: &std::path::Path) -> std::io::Result<(UnixListener, String)> {
    let listener = UnixListener::bind(path)?;
    Ok((listener, format!("{PREFIX}{}", path.display())))
}

/// Accepts connections on `listener` until `shutdown`, handing each to `serve`.
pub(crate) async fn accept(
    listener: UnixListener,
    shutdown: &CancellationToken,
    mut serve: impl FnMut(UnixStream),
) {
    let serve = |(stream, _): (UnixStream, tokio::net::unix::SocketAddr)| serve(stream);
    crate::rt::accept_until(shutdown, || listener.accept(), serve).await;
}

/// Opens a connection to the socket `path`.
pub(crate) async fn connect(path: &str) -> std::io::Result<UnixStream> {
    UnixStream::connect(path).await
}
