#[polywire::protocol(id = "t")]
mod t {
    #[wire(tagged = u8)]
    pub struct Props {
        #[wire(tag = 1)]
        size: Option<u32>,
        #[wire(tag = 2)]
        level: u8,
    }

    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(rest)]
        props: Props,
    }
}

fn main() {}
