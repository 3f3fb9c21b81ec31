#[derive(polywire::Message)]
pub struct Ping {
    #[wire(constant = 7)]
    tag: u8,
    seq: u32,
}

fn main() {}
