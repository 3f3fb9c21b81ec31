// A derived struct's only encodings are `binary` and `json`.
#[derive(polywire::Message)]
#[wire(json)]
pub struct Inner {
    a: u8,
}

#[derive(polywire::Message)]
pub struct Outer {
    format: u8,
    #[wire(by(format, 0 => json, 1 => xml), rest)]
    inner: Inner,
}

fn main() {}
