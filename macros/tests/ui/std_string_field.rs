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
        #[wire(prefix = u16)]
        name: String,
    }
}

fn main() {}
