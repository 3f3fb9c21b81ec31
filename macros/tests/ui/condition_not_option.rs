#[polywire::protocol(id = "t")]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        flags: u8,
        #[wire(if = "flags > 0")]
        extra: u16,
        #[wire(rest)]
        body: Bytes,
    }
}

fn main() {}
