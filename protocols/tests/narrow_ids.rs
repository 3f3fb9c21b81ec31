//! A protocol whose correlation id is one byte: pipelined ids wrap around every 256
//! requests, and every request still gets its own response.

use bytes::Bytes;
use polywire::Protocol;
use polywire::rt::{ClientConfig, RemotingClient, RemotingServer, RequestContext, ServerConfig};
use std::collections::HashMap;
use std::time::Duration;

/// A frame with a one-byte correlation id.
#[polywire::protocol(id = "tiny", versions = 1..=1)]
pub mod tiny {
    #[wire(flags)]
    #[repr(u8)]
    pub enum Flags {
        #[wire(response)]
        Response = 0,
        #[wire(oneway)]
        Oneway = 1,
    }

    #[wire(responses)]
    #[repr(u8)]
    pub enum Status {
        #[wire(success)]
        Ok = 0,
        #[wire(not_supported)]
        NotSupported = 1,
        #[wire(system_error)]
        Failed = 2,
    }

    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(code)]
        code: u8,
        #[wire(correlation)]
        id: u8,
        #[wire(kind)]
        flags: Flags,
        #[wire(rest, message)]
        body: Bytes,
    }
}

use tiny::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_ids_wrap_and_every_response_finds_its_request() {
    let server = RemotingServer::new(TinyProtocol, ServerConfig::default());
    server.register_processor(7, |_ctx: RequestContext, mut req: Frame| async move {
        req.code = 0;
        Ok(req)
    });
    let addr = server.bind("127.0.0.1:0").await.expect("binds");
    let client = RemotingClient::new(TinyProtocol, ClientConfig::default());
    let mut pipe = client
        .pipeline(&addr.to_string(), 16, Duration::from_secs(5))
        .await
        .expect("pipeline");
    let mut in_flight: HashMap<u64, u32> = HashMap::new();
    let mut answered = 0u32;
    let mut batch = Vec::new();
    let mut i = 0u32;
    // Ten cycles of the id space.
    while i < 2560 || pipe.outstanding() > 0 {
        while i < 2560 && pipe.has_room() {
            let mut req = TinyProtocol.request(7);
            req.body = Bytes::from(i.to_be_bytes().to_vec());
            let id = pipe.send(req).expect("sent");
            assert!(id < 256, "the id as the frame carries it: {id}");
            assert!(in_flight.insert(id, i).is_none(), "id {id} in flight twice");
            i += 1;
        }
        pipe.recv_batch(&mut batch).await;
        for (id, r) in batch.drain(..) {
            let resp = r.expect("answered");
            let sent = in_flight.remove(&id).expect("a request of ours");
            assert_eq!(resp.correlation_id(), id);
            assert_eq!(&resp.body[..], &sent.to_be_bytes(), "id {id}");
            answered += 1;
        }
    }
    assert_eq!(answered, 2560);
    assert_eq!(client.metrics().late_responses, 0);
    server.shutdown().await;
}
