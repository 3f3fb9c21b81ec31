#[derive(polywire::Message)]
pub struct Ping {
    #[wire(prefix = u16)]
    seq: u32,
}

fn main() {}
