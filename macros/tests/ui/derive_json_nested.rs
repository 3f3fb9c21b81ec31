// A standalone derive cannot see how `Inner` (or `Colour`) is written in JSON.
#[derive(polywire::Message)]
#[wire(json)]
pub struct Inner {
    a: u8,
}

#[derive(polywire::Message, Clone, Copy)]
#[repr(u8)]
pub enum Colour {
    Red = 1,
}

#[derive(polywire::Message)]
#[wire(json)]
pub struct Outer {
    n: u8,
    inner: Inner,
    colours: Vec<Colour>,
}

fn main() {}
