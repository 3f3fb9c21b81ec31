//! Two small protocols made with the macros, each recognised on a shared port by its own
//! two-byte magic: for the tests and the load tool to register beside native and RocketMQ.

/// Declares a probe protocol module `$name` with id `$id`, whose frames start with the
/// two bytes of `$magic` (`$constant` is the same as a big-endian `u16`), and an `Echo`
/// service answering code 1 with the request's body.
macro_rules! probe_protocol {
    ($(#[$doc:meta])* $name:ident, $id:literal, $magic:literal, $constant:literal) => {
        $(#[$doc])*
        #[polywire::protocol(id = $id, versions = 1..=1, detect(prefix = $magic, at = 0))]
        pub mod $name {
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
                #[wire(constant = $constant)]
                magic: u16,
                #[wire(len = "..")]
                length: u32,
                #[wire(code)]
                code: u8,
                #[wire(correlation, varint)]
                id: u64,
                #[wire(kind)]
                flags: Flags,
                #[wire(rest, message)]
                body: Bytes,
            }

            pub trait Echo {
                /// Answers with the request's body.
                #[wire(code = 1)]
                fn echo(body: Bytes) -> Bytes;
            }
        }
    };
}

probe_protocol!(
    /// Probe protocol A: frames start with `PA`.
    probe_a,
    "probe-a",
    "PA",
    0x5041
);
probe_protocol!(
    /// Probe protocol B: frames start with `PB`.
    probe_b,
    "probe-b",
    "PB",
    0x5042
);
