//! A protocol written only with the macros: no `.wire` file, no `build.rs`. The module is
//! read into the same IR as a `.wire` file and replaced by the same generated code: message
//! types, codec, a `Calc` server trait with `serve_calc`, and a typed `CalcClient`.
//!
//! Run with `cargo run --example derive_protocol`.

use polywire::rt::{
    ClientConfig, ProcessError, RemotingClient, RemotingServer, RequestContext, ServerConfig,
};
use std::sync::Arc;

/// A calculator: `u16` magic, a `u32` length, then code, id, flags, headers and body.
#[polywire::protocol(id = "calc", versions = 1..=1, detect(prefix = "CA", at = 0))]
pub mod calc {
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
        #[wire(constant = 0x4341)]
        magic: u16,
        #[wire(len = "..")]
        length: u32,
        #[wire(code)]
        code: u8,
        #[wire(correlation, varint)]
        id: u64,
        #[wire(kind)]
        flags: Flags,
        #[wire(key(prefix = u8), value(prefix = u16))]
        headers: OrderedMap<Str, Str>,
        #[wire(rest, message)]
        body: Bytes,
    }

    /// The numbers to add.
    pub struct Numbers {
        #[wire(count = u8)]
        values: Vec<i32>,
    }

    /// Who is asking: a typed header, carried as strings in `headers`.
    #[wire(header)]
    pub struct Caller {
        name: Str,
    }

    pub trait Calc {
        /// Adds the numbers of the body.
        #[wire(code = 1)]
        fn add(header: Caller, body: Numbers) -> Bytes;
    }
}

use calc::*;

struct Adder;

impl Calc for Adder {
    async fn add(
        &self,
        _ctx: RequestContext,
        req: AddRequest,
    ) -> Result<AddResponse, ProcessError> {
        let sum: i64 = req.body.values.iter().map(|&v| i64::from(v)).sum();
        let text = format!("{}, the sum is {sum}", req.header.name);
        Ok(AddResponse { body: text.into() })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    polywire_examples::logging::from_env();
    let server = RemotingServer::new(CalcProtocol, ServerConfig::default());
    serve_calc(&server, Arc::new(Adder));
    let addr = server.bind("127.0.0.1:0").await?;
    println!("calc server (written with #[polywire::protocol]) on {addr}");

    let client = CalcClient::new(
        RemotingClient::new(CalcProtocol, ClientConfig::default()),
        addr.to_string(),
    );
    let header = Caller { name: "ada".into() };
    let body = Numbers {
        values: vec![40, 1, 1],
    };
    let reply = client.add(AddRequest { header, body }).await?;
    println!(
        "add(40, 1, 1) -> {:?}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(&reply.body[..], b"ada, the sum is 42");

    server.shutdown().await;
    println!("server stopped");
    Ok(())
}
