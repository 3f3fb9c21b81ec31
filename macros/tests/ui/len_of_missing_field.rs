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
        #[wire(len = "payload")]
        size: u16,
        #[wire(sized_by = size)]
        body: Bytes,
    }
}

fn main() {}
