#[polywire::protocol(id = "t")]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(rest)]
        body: Bytes,
    }

    pub struct Point {
        x: u8,
    }

    pub struct Msg {
        at: Pont,
    }
}

fn main() {}
