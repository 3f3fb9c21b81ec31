//! Cross-crate integration tests live in this package's tests.
//!
//! The crate itself holds [`kitchen`], generated from `wire/kitchen.wire`: a protocol that
//! uses every feature of the `.wire` language, so that the generated code for each of them
//! is compiled here under `missing_docs` and clippy, and exercised by `tests/kitchen.rs`.
//! [`random`] generates random protocols for `tests/random_protocols.rs`.
#![warn(missing_docs)]

pub mod random;

/// Shapes the random protocols found bugs in (`wire/regress.wire`), under every warning
/// denied: its generated code must not make the crate that holds it warn.
#[deny(warnings)]
pub mod regress {
    polywire::include_protocol!("regress");
}

/// Types named in snake case (`wire/snake_case.wire`), under every warning denied.
#[deny(warnings)]
pub mod snake_case {
    polywire::include_protocol!("snake_case");
}

/// Requests answered by a series, matched by order (`wire/catalog.wire`), under every
/// warning denied.
#[deny(warnings)]
pub mod catalog {
    polywire::include_protocol!("catalog");
}

/// The same, matched by a request id (`wire/catalog_ids.wire`), under every warning denied.
#[deny(warnings)]
pub mod catalog_ids {
    polywire::include_protocol!("catalog_ids");
}

/// The bundled protocols generated with one side of the typed glue (`Builder::server(false)`
/// or `client(false)`), under every warning denied: each side compiles alone.
pub mod one_side {
    /// `native.wire` without its server side.
    #[deny(warnings)]
    pub mod native_client {
        include!(concat!(env!("OUT_DIR"), "/client_only/native.rs"));
    }
    /// `mqtt.wire` without its handler, dispatch and `server()`.
    #[deny(warnings)]
    pub mod mqtt_client {
        include!(concat!(env!("OUT_DIR"), "/client_only/mqtt.rs"));
    }
    /// `native.wire` without its typed client.
    #[deny(warnings)]
    pub mod native_server {
        include!(concat!(env!("OUT_DIR"), "/server_only/native.rs"));
    }
}

/// Every feature of the language in one protocol (`wire/kitchen.wire`).
pub mod kitchen {
    polywire::include_protocol!("kitchen");
}
