#[polywire::protocol(id = "t")]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(rest)]
        body: Bytes,
    }

    pub struct Msg {
        #[wire(bits = 0..4, packed = u8)]
        low: u8,
        #[wire(bits = 4..12)]
        high: u8,
    }
}

fn main() {}
