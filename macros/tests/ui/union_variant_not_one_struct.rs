#[polywire::protocol(id = "t")]
mod t {
    pub struct Ping {
        #[wire(constant = 1)]
        kind: u8,
        id: u32,
    }

    pub struct Pong {
        #[wire(constant = 2)]
        kind: u8,
        id: u32,
    }

    #[wire(union, frame)]
    pub enum Message {
        Ping(Ping),
        Pong { id: u32 },
        Both(Ping, Pong),
    }
}

fn main() {}
