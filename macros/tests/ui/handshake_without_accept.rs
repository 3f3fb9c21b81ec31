#[polywire::protocol(id = "t", versions = 1..=2)]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(rest)]
        body: Bytes,
    }

    #[wire(hello)]
    pub struct Hello {
        #[wire(min_version)]
        min: u8,
        #[wire(max_version)]
        max: u8,
    }
}

fn main() {}
