// A standalone derive does not know that `Mode` is an enum, so it cannot be a bit part.
#[derive(polywire::Message, Clone, Copy)]
#[repr(u8)]
pub enum Mode {
    Off = 0,
    On = 1,
}

#[derive(polywire::Message)]
pub struct Control {
    #[wire(bits = 4..8, packed = u8)]
    mode: Mode,
    #[wire(bits = 0..4)]
    level: u8,
}

fn main() {}
