//! A handler's error as data: a `Status` of the protocol's `responses` with a message
//! reaches the caller's typed client as `RemotingError::Remote { code, message }`; a
//! status the protocol does not declare, or any other error, is answered as its system
//! error, with the error's text.

use polywire::rt::{
    ClientConfig, ProcessError, RemotingClient, RemotingError, RemotingServer, RequestContext,
    ServerConfig,
};
use polywire::{OrderedMap, Protocol, Str};
use polywire_protocols::native::*;
use std::sync::Arc;
use std::time::Duration;

/// Echoes, except for bodies that name an outcome.
struct Picky;

impl BasicNow for Picky {
    fn echo(
        &self,
        _ctx: &RequestContext,
        request: EchoRequest,
    ) -> Result<EchoResponse, ProcessError> {
        match &request.body[..] {
            b"missing" => {
                Err(polywire::Status::new(Status::BadRequest.to_repr(), "no such key").into())
            }
            b"undeclared" => Err(polywire::Status::new(77, "a status native has not").into()),
            b"broken" => Err("the disk is on fire".into()),
            _ => Ok(EchoResponse { body: request.body }),
        }
    }
    fn ping(
        &self,
        _ctx: &RequestContext,
        _request: PingRequest,
    ) -> Result<PingResponse, ProcessError> {
        Ok(PingResponse {})
    }
    fn log(&self, _ctx: &RequestContext, _request: LogRequest) -> Result<(), ProcessError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_typed_client_gets_the_handler_s_status_and_message() {
    let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
    serve_basic_now(&server, Arc::new(Picky));
    let addr = server.bind("127.0.0.1:0").await.unwrap();
    let client = BasicClient::new(
        RemotingClient::new(NativeProtocol, ClientConfig::default()),
        addr.to_string(),
    );
    let call = |body: &'static str| client.echo(EchoRequest { body: body.into() });
    match call("missing").await {
        Err(RemotingError::Remote { code, message }) => {
            assert_eq!((code, message.as_str()), (4, "no such key"));
        }
        other => panic!("{other:?}"),
    }
    let e = call("missing").await.unwrap_err();
    assert_eq!(e.to_string(), "remote error: status 4: no such key");
    match call("undeclared").await {
        Err(RemotingError::Remote { code, message }) => {
            assert_eq!(code, 1, "not one of native's statuses: a system error");
            assert_eq!(message, "status 77: a status native has not");
        }
        other => panic!("{other:?}"),
    }
    match call("broken").await {
        Err(RemotingError::Remote { code, message }) => {
            assert_eq!((code, message.as_str()), (1, "the disk is on fire"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&call("fine").await.unwrap().body[..], b"fine");
    server.shutdown().await;
}

#[tokio::test]
async fn rocketmq_carries_the_status_and_its_remark() {
    use polywire_protocols::rocketmq::{Frame, ResponseCode, RocketmqProtocol};
    let server = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    server.register_processor(2001, |_ctx: RequestContext, _req: Frame| async move {
        Err::<Frame, ProcessError>(
            polywire::Status::new(ResponseCode::TopicNotExist.to_repr(), "No topic route info")
                .into(),
        )
    });
    let addr = server.bind("127.0.0.1:0").await.unwrap().to_string();
    let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    let mut req = RocketmqProtocol.request(2001);
    req.header.ext_fields = Some(OrderedMap::new());
    let r = client
        .invoke(&addr, req, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.header.code, 17);
    assert_eq!(
        r.header.remark.as_ref().map(Str::as_str),
        Some("No topic route info")
    );
    assert_eq!(
        RocketmqProtocol.message(&r).as_deref(),
        Some("No topic route info")
    );
    server.shutdown().await;
}
