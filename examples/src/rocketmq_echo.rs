//! A RocketMQ-compatible echo server built on the generated `rocketmq` protocol: it echoes
//! request code 2001, answers GET_ROUTEINFO_BY_TOPIC with a route pointing at itself, and
//! answers everything else as RocketMQ does for unknown codes.

use polywire::rt::{ProcessError, RemotingServer, RequestContext, ServerConfig};
use polywire::{Protocol, Str};
use polywire_protocols::rocketmq::*;
use std::net::SocketAddr;

/// The echo request code (a test code, as in RocketMQ's own remoting tests).
pub const ECHO: i64 = 2001;

/// Starts the server on `listen`; returns it and the bound address.
pub async fn serve(
    listen: &str,
) -> std::io::Result<(RemotingServer<RocketmqProtocol>, SocketAddr)> {
    let server = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    server.register_processor(ECHO, |_ctx: RequestContext, mut req: Frame| async move {
        // Same body and extFields, SUCCESS, in the request's header encoding (echoed by the runtime).
        req.header.code = ResponseCode::Success.to_repr();
        req.header.remark = None;
        Ok::<_, ProcessError>(req)
    });
    let addr_cell: std::sync::Arc<std::sync::OnceLock<SocketAddr>> = Default::default();
    {
        let addr_cell = addr_cell.clone();
        server.register_processor(
            request_codes::GET_ROUTEINFO_BY_TOPIC.into(),
            move |_ctx: RequestContext, req: Frame| {
                let addr = addr_cell.get().copied();
                async move {
                    let request = GetRouteinfoByTopicRequest::from_frame_owned(req)?;
                    let addr = addr.map(|a| a.to_string()).unwrap_or_default();
                    let body = route_json(&request.header.topic, &addr);
                    let mut resp =
                        RocketmqProtocol.request(i64::from(ResponseCode::Success.to_repr()));
                    resp.body = body.into();
                    Ok::<_, ProcessError>(resp)
                }
            },
        );
    }
    let addr = server.bind(listen).await?;
    let _ = addr_cell.set(addr);
    Ok((server, addr))
}

/// A `TopicRouteData` body (standard JSON) with one broker, `broker-polywire`, at `addr`.
pub fn route_json(topic: &Str, addr: &str) -> String {
    let _ = topic;
    serde_json::json!({
        "brokerDatas": [{
            "brokerAddrs": { "0": addr },
            "brokerName": "broker-polywire",
            "cluster": "DefaultCluster",
            "enableActingMaster": false
        }],
        "filterServerTable": {},
        "queueDatas": [{
            "brokerName": "broker-polywire",
            "perm": 6,
            "readQueueNums": 4,
            "topicSysFlag": 0,
            "writeQueueNums": 4
        }]
    })
    .to_string()
}
