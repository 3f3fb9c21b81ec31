//! Typed services over a protocol's frames: what the generated `<Name>Request` and
//! `<Name>Response` types implement ([`Payload`], [`Request`]), and the glue that is the
//! same for every service: registering a handler method for a request code
//! ([`RemotingServer::handle`] and its variants) and calling one ([`ServiceClient`]).
//!
//! The generated code keeps what is particular to a message: where its header and body
//! travel in the frame, and its request code. A service trait's `serve_<service>` is one
//! `handle` line per request, its typed client one `call` per request.

use super::RequestContext;
use super::{Immediate, Pipeline, ProcessError, RemotingClient, RemotingError, RemotingServer};
use crate::protocol::{Protocol, RemotingFrame};
use crate::{DecodeError, EncodeError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The frame type of the protocol that carries payload `M`.
pub type FrameOf<M> = <<M as Payload>::Protocol as Protocol>::Frame;

/// The typed parts of a service's request or response (its typed header and body), taken
/// out of its protocol's frame and written into one. Generated for every request and
/// response type; the conversions callers use follow from the two methods.
pub trait Payload: Sized {
    /// The protocol whose frames carry it.
    type Protocol: Protocol + Default;

    /// Takes the typed parts out of `frame`: its body is moved out, not shared, and the
    /// rest of the frame is left as it was.
    fn take_from(frame: &mut FrameOf<Self>) -> Result<Self, DecodeError>;

    /// Writes the typed parts into `frame` (and a response's success status into its code).
    fn put_into(self, frame: &mut FrameOf<Self>) -> Result<(), EncodeError>;

    /// Reads the typed parts out of a frame, which is left as it is (its body is shared).
    fn from_frame(frame: &FrameOf<Self>) -> Result<Self, DecodeError>
    where
        FrameOf<Self>: Clone,
    {
        Self::take_from(&mut frame.clone())
    }

    /// Takes the typed parts out of a frame, moving its body.
    #[inline]
    fn from_frame_owned(mut frame: FrameOf<Self>) -> Result<Self, DecodeError> {
        Self::take_from(&mut frame)
    }

    /// Moves the typed parts into `frame`.
    #[inline]
    fn into_frame(self, mut frame: FrameOf<Self>) -> Result<FrameOf<Self>, EncodeError> {
        self.put_into(&mut frame)?;
        Ok(frame)
    }

    /// Writes a copy of the typed parts into `frame`.
    fn to_frame(&self, frame: FrameOf<Self>) -> Result<FrameOf<Self>, EncodeError>
    where
        Self: Clone,
    {
        self.clone().into_frame(frame)
    }

    /// Reads a response frame: an error status becomes [`RemotingError::Remote`], with the
    /// text the response carries.
    fn from_response(frame: FrameOf<Self>) -> Result<Self, RemotingError> {
        let proto = Self::Protocol::default();
        if !proto.is_success(&frame) {
            return Err(RemotingError::Remote {
                code: frame.code(),
                message: proto.message(&frame).unwrap_or_default(),
            });
        }
        Ok(Self::from_frame_owned(frame)?)
    }
}

/// A request of a service: its code and its response's type (`()` for a oneway request).
pub trait Request: Payload {
    /// The response's type: a [`Payload`], or `()` for a request that gets no response.
    type Response;
    /// The request code.
    const CODE: i64;

    /// The request frame for this request's code, ready for
    /// [`invoke`](RemotingClient::invoke) or a [`Pipeline`].
    #[inline]
    fn into_request(self) -> Result<FrameOf<Self>, EncodeError> {
        self.into_frame(Self::Protocol::default().request(Self::CODE))
    }
}

impl<P: Protocol + Default> RemotingServer<P>
where
    P::Frame: Default,
{
    /// Handles request `R` with `handler`, a method of `service` that returns a future:
    /// the request is read from its frame, and the response the future gives is written
    /// into a new one (`serve_<service>` is one such line per request:
    /// `server.handle(&service, |s, ctx, r| async move { s.echo(ctx, r).await })`).
    pub fn handle<R, S, F, Fut>(&self, service: &Arc<S>, handler: F)
    where
        R: Request<Protocol = P>,
        R::Response: Payload<Protocol = P>,
        S: ?Sized + Send + Sync + 'static,
        F: Fn(Arc<S>, RequestContext, R) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R::Response, ProcessError>> + Send + 'static,
    {
        let service = service.clone();
        self.register_processor(R::CODE, move |ctx: RequestContext, frame: P::Frame| {
            let call = R::from_frame_owned(frame).map(|r| handler(service.clone(), ctx, r));
            async move { Ok::<_, ProcessError>(call?.await?.into_frame(P::Frame::default())?) }
        });
    }

    /// Handles oneway request `R` with `handler`, as [`handle`](Self::handle) does; nothing
    /// is sent back.
    pub fn handle_oneway<R, S, F, Fut>(&self, service: &Arc<S>, handler: F)
    where
        R: Request<Protocol = P>,
        S: ?Sized + Send + Sync + 'static,
        F: Fn(Arc<S>, RequestContext, R) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ProcessError>> + Send + 'static,
    {
        let service = service.clone();
        self.register_processor(R::CODE, move |ctx: RequestContext, mut frame: P::Frame| {
            let call = R::take_from(&mut frame).map(|r| handler(service.clone(), ctx, r));
            // The runtime sends nothing back for a oneway; the frame is only a placeholder.
            async move {
                call?.await?;
                Ok::<_, ProcessError>(frame)
            }
        });
    }

    /// Handles request `R` with `handler`, a method of `service` that answers at once
    /// (`S::echo`): no future and no allocation per request (an [`Immediate`] processor).
    pub fn handle_now<R, S, F>(&self, service: &Arc<S>, handler: F)
    where
        R: Request<Protocol = P>,
        R::Response: Payload<Protocol = P>,
        S: ?Sized + Send + Sync + 'static,
        F: Fn(&S, &RequestContext, R) -> Result<R::Response, ProcessError> + Send + Sync + 'static,
    {
        let service = service.clone();
        self.register_processor(
            R::CODE,
            Immediate(
                move |ctx: &RequestContext, frame: P::Frame| -> Result<_, ProcessError> {
                    let response = handler(&service, ctx, R::from_frame_owned(frame)?)?;
                    Ok(response.into_frame(P::Frame::default())?)
                },
            ),
        );
    }

    /// Handles oneway request `R` with `handler`, as [`handle_now`](Self::handle_now) does;
    /// nothing is sent back.
    pub fn handle_oneway_now<R, S, F>(&self, service: &Arc<S>, handler: F)
    where
        R: Request<Protocol = P>,
        S: ?Sized + Send + Sync + 'static,
        F: Fn(&S, &RequestContext, R) -> Result<(), ProcessError> + Send + Sync + 'static,
    {
        let service = service.clone();
        self.register_processor(
            R::CODE,
            Immediate(
                move |ctx: &RequestContext, mut frame: P::Frame| -> Result<_, ProcessError> {
                    handler(&service, ctx, R::take_from(&mut frame)?)?;
                    Ok(frame)
                },
            ),
        );
    }
}

/// A client of the services at one address, with a timeout per call: the typed clients
/// (`BasicClient`) hold one and call their requests through it.
pub struct ServiceClient<P: Protocol> {
    client: RemotingClient<P>,
    addr: Arc<str>,
    timeout: Duration,
}

impl<P: Protocol> Clone for ServiceClient<P> {
    fn clone(&self) -> Self {
        ServiceClient {
            client: self.client.clone(),
            addr: self.addr.clone(),
            timeout: self.timeout,
        }
    }
}

impl<P: Protocol> ServiceClient<P> {
    /// A client for the services at `addr`, with a 3 s timeout per call.
    pub fn new(client: RemotingClient<P>, addr: impl Into<Arc<str>>) -> Self {
        ServiceClient {
            client,
            addr: addr.into(),
            timeout: Duration::from_secs(3),
        }
    }

    /// Sets the timeout of each call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client the calls go through.
    pub fn client(&self) -> &RemotingClient<P> {
        &self.client
    }

    /// The address called.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The timeout of each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A [`Pipeline`] of up to `window` requests in flight on the connection to this
    /// address, for callers that keep many requests outstanding: send
    /// [`Request::into_request`] frames, read [`Payload::from_response`] results.
    pub async fn pipeline(&self, window: usize) -> Result<Pipeline<P>, RemotingError> {
        self.client.pipeline(&self.addr, window, self.timeout).await
    }

    /// Sends `request` and waits for its typed response; an error status is
    /// [`RemotingError::Remote`].
    pub async fn call<R>(&self, request: R) -> Result<R::Response, RemotingError>
    where
        P: Default,
        R: Request<Protocol = P>,
        R::Response: Payload<Protocol = P>,
    {
        let frame = request.into_request()?;
        let response = self.client.invoke(&self.addr, frame, self.timeout).await?;
        R::Response::from_response(response)
    }

    /// Sends oneway `request` (no response).
    pub async fn call_oneway<R>(&self, request: R) -> Result<(), RemotingError>
    where
        P: Default,
        R: Request<Protocol = P>,
    {
        let frame = request.into_request()?;
        self.client.invoke_oneway(&self.addr, frame).await
    }
}
