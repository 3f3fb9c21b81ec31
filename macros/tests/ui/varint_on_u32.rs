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
        #[wire(varint)]
        id: u32,
    }
}

fn main() {}
