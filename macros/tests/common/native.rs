// `protocols/wire/native.wire`, written with the macros instead of the DSL. Shared by the
// parity and round-trip tests (`include!`d, and read as text by the round trip).

/// polywire's native protocol: a small binary frame with a magic number, the negotiated
/// version, a varint length, the request code, a correlation id, flags, a string header
/// map and an opaque body. A connection starts with a `Hello`/`Accept` handshake.
#[polywire::protocol(
    id = "polywire-native",
    endian = big,
    versions = 1..=3,
    limits(max_frame_len = 16777216, max_string_len = 1048576, max_collection_len = 4096),
    detect(prefix = "PWNH", at = 0),
    handshake(choose = highest, timeout_ms = 5000)
)]
pub mod native {
    /// What a frame is.
    #[wire(flags)]
    #[repr(u8)]
    pub enum Flags {
        /// A response to the request with the same id.
        #[wire(response)]
        Response = 0,
        /// A request that expects no response.
        #[wire(oneway)]
        Oneway = 1,
        /// The peer is closing; finish in-flight work and send no new requests.
        GoingAway = 2,
    }

    /// Optional capabilities, offered by the client and confirmed by the server.
    #[wire(flags)]
    #[repr(u32)]
    pub enum Features {
        /// Several requests may be in flight on one connection.
        Pipelining = 0,
        /// Header maps may be sent compressed.
        HeaderCompression = 1,
    }

    /// The client's first message: the versions it speaks and the features it offers.
    #[wire(hello)]
    pub struct Hello {
        /// `PWNH`.
        #[wire(constant = 0x50574E48)]
        magic: u32,
        #[wire(min_version)]
        min_version: u8,
        #[wire(max_version)]
        max_version: u8,
        #[wire(features)]
        features: Features,
    }

    /// The server's answer when a common version exists.
    #[wire(accept)]
    pub struct Accept {
        #[wire(constant = 1)]
        tag: u8,
        /// The chosen version.
        #[wire(version)]
        version: u8,
        /// The features both sides support.
        #[wire(features)]
        features: Features,
    }

    /// The server's answer when no common version exists: the range it supports.
    #[wire(reject)]
    pub struct Reject {
        #[wire(constant = 2)]
        tag: u8,
        #[wire(min_version)]
        min_version: u8,
        #[wire(max_version)]
        max_version: u8,
        /// Human-readable reason.
        #[wire(prefix = varint, max = 1024)]
        reason: Str,
    }

    /// Headers of a `Log` request.
    pub struct LogHeader {
        /// Severity, 0 (trace) to 5 (fatal).
        level: u8,
        /// Where the line comes from.
        #[wire(prefix = varint)]
        source: Str,
    }

    /// Status codes carried in the `code` of responses.
    #[wire(responses)]
    #[repr(u16)]
    pub enum Status {
        /// The request succeeded.
        #[wire(success)]
        Ok = 0,
        /// The server failed while handling it.
        #[wire(system_error)]
        SystemError = 1,
        /// No processor handles the request code.
        #[wire(not_supported)]
        NotSupported = 2,
        /// The server is overloaded; retry later.
        Busy = 3,
        /// The request was malformed.
        BadRequest = 4,
    }

    /// One message on the wire.
    #[wire(frame)]
    pub struct Frame {
        /// `PW`.
        #[wire(constant = 0x5057)]
        magic: u16,
        /// The version agreed in the handshake.
        version: u8,
        /// Bytes that follow this field.
        #[wire(len = "..", varint)]
        length: u64,
        /// Request code in requests, [`Status`] in responses.
        #[wire(code)]
        code: u16,
        /// Correlates a response with its request.
        #[wire(correlation, varint)]
        id: u64,
        /// Request, response or oneway.
        #[wire(kind)]
        flags: Flags,
        /// String headers; typed request headers travel here.
        #[wire(key(prefix = varint), value(prefix = varint))]
        headers: OrderedMap<Str, Str>,
        /// The payload; for error statuses, the error text.
        #[wire(rest, message)]
        body: Bytes,
    }

    /// Built-in requests every native server answers.
    pub trait Basic {
        /// Returns the body unchanged.
        #[wire(code = 1)]
        fn echo(body: Bytes) -> Bytes;
        /// Liveness check with an empty body.
        #[wire(code = 2)]
        fn ping();
        /// A log line the server records; no response.
        #[wire(code = 3, oneway, carrier = headers)]
        fn log(header: LogHeader, body: Bytes);
    }
}
