#[polywire::protocol(
    id = "t",
    exchange = "Ping -> Pongg"
)]
mod t {
    pub struct Ping {
        #[wire(constant = 1)]
        kind: u8,
        #[wire(len = "..")]
        length: u32,
        id: u32,
        mode: u8,
    }

    pub struct Pong {
        #[wire(constant = 2)]
        kind: u8,
        #[wire(len = "..")]
        length: u32,
        id: u32,
    }

    pub struct Other {
        #[wire(constant = 3)]
        kind: u8,
        #[wire(len = "..")]
        length: u32,
    }

    #[wire(union, frame)]
    pub enum Msg {
        Ping(Ping),
        Pong(Pong),
    }
}

fn main() {}
