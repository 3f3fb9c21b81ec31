//! Hooks that run before and after every request, on servers and clients alike: the place
//! for authentication, signing, tracing and custom metrics.

use super::RequestContext;
use crate::protocol::Protocol;

/// Runs around each request.
///
/// On a server, `before` sees each decoded request before its processor and may refuse it
/// (the peer gets a system-error response); `after` sees each response before it is written
/// (`None` for oneway requests). On a client, `before` sees each request before it is
/// encoded (and may modify it, e.g. to add a signature) and `after` each response.
pub trait Hook<P: Protocol>: Send + Sync + 'static {
    /// Before the request is processed (server) or sent (client). `Err` refuses it.
    fn before(&self, ctx: &RequestContext, request: &mut P::Frame) -> Result<(), String> {
        let _ = (ctx, request);
        Ok(())
    }

    /// After the response is produced (server) or received (client).
    fn after(&self, ctx: &RequestContext, request_code: i64, response: Option<&P::Frame>) {
        let _ = (ctx, request_code, response);
    }
}
