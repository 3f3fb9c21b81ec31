#[polywire::protocol(id = "t")]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        flags: u8,
        #[wire(if = "flags >")]
        extra: Option<u16>,
        #[wire(rest)]
        body: Bytes,
    }
}

fn main() {}
