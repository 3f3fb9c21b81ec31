// A `by` switch choosing json for a derived type that declares no `#[wire(json)]`.
#[derive(polywire::Message)]
pub struct Inner {
    a: u8,
}

#[derive(polywire::Message)]
pub struct Outer {
    format: u8,
    #[wire(by(format, 0 => json, 1 => binary), rest)]
    inner: Inner,
}

fn main() {}
