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
        #[wire(bits = 0..5, packed = u16)]
        a: u8,
        #[wire(bits = 4..8)]
        b: u8,
    }
}

fn main() {}
