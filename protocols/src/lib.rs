//! Protocols bundled with polywire, generated at build time from `wire/*.wire`.
//!
//! A user crate that defines its own protocol looks exactly like this one: a `.wire`
//! file, a three-line `build.rs`, and an `include_protocol!`.

/// polywire's own compact binary protocol (`wire/native.wire`).
pub mod native {
    polywire::include_protocol!("native");

    /// The plain implementation of the built-in `Basic` service: `echo` returns the body,
    /// `ping` answers, `log` accepts the line and does nothing with it. It implements both
    /// forms of the service: [`Basic`] (async, served by [`serve_basic`]) and [`BasicNow`]
    /// (answers at once, served by [`serve_basic_now`] with no future per request).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct BasicEcho;

    impl BasicNow for BasicEcho {
        fn echo(
            &self,
            _ctx: &polywire::rt::RequestContext,
            request: EchoRequest,
        ) -> Result<EchoResponse, polywire::rt::ProcessError> {
            Ok(EchoResponse { body: request.body })
        }

        fn ping(
            &self,
            _ctx: &polywire::rt::RequestContext,
            _request: PingRequest,
        ) -> Result<PingResponse, polywire::rt::ProcessError> {
            Ok(PingResponse {})
        }

        fn log(
            &self,
            _ctx: &polywire::rt::RequestContext,
            _request: LogRequest,
        ) -> Result<(), polywire::rt::ProcessError> {
            Ok(())
        }
    }

    impl Basic for BasicEcho {
        async fn echo(
            &self,
            _ctx: polywire::rt::RequestContext,
            request: EchoRequest,
        ) -> Result<EchoResponse, polywire::rt::ProcessError> {
            Ok(EchoResponse { body: request.body })
        }

        async fn ping(
            &self,
            _ctx: polywire::rt::RequestContext,
            _request: PingRequest,
        ) -> Result<PingResponse, polywire::rt::ProcessError> {
            Ok(PingResponse {})
        }

        async fn log(
            &self,
            _ctx: polywire::rt::RequestContext,
            _request: LogRequest,
        ) -> Result<(), polywire::rt::ProcessError> {
            Ok(())
        }
    }
}

/// Apache RocketMQ remoting (`wire/rocketmq.wire`), byte-exact with the Java implementation.
pub mod rocketmq {
    polywire::include_protocol!("rocketmq");

    /// A client hook choosing the header encoding of every request: `0` JSON (what Java
    /// sends by default), `1` the compact ROCKETMQ binary layout. Servers answer in the
    /// encoding each request arrived in.
    ///
    /// ```no_run
    /// # use polywire::rt::{ClientConfig, RemotingClient};
    /// # use polywire_protocols::rocketmq::{HeaderEncoding, RocketmqProtocol};
    /// let client = RemotingClient::new(RocketmqProtocol, ClientConfig::default());
    /// client.add_hook(HeaderEncoding(1));
    /// ```
    #[derive(Debug, Clone, Copy)]
    pub struct HeaderEncoding(pub u8);

    impl polywire::rt::Hook<RocketmqProtocol> for HeaderEncoding {
        fn before(
            &self,
            _ctx: &polywire::rt::RequestContext,
            request: &mut Frame,
        ) -> Result<(), String> {
            request.serialize = self.0;
            Ok(())
        }
    }
}

/// MQTT 3.1.1 and 5.0 (`wire/mqtt.wire`): every control packet, as the union [`mqtt::Packet`].
pub mod mqtt {
    polywire::include_protocol!("mqtt");
}

/// Redis's RESP2 and RESP3 (`wire/resp.wire`): every value, as the union [`resp::Value`]
/// told apart by its first byte, byte-exact with Redis 7.
pub mod resp {
    polywire::include_protocol!("resp");
}
