//! Protocols bundled with polywire, generated at build time from `wire/*.wire`.
//!
//! A user crate that defines its own protocol looks exactly like this one: a `.wire`
//! file, a three-line `build.rs`, and an `include_protocol!`.

/// polywire's own compact binary protocol (`wire/native.wire`).
pub mod native {
    polywire::include_protocol!("native");
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
