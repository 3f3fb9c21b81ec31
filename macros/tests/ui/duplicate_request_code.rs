#[polywire::protocol(id = "t")]
mod t {
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(code)]
        code: u16,
        #[wire(rest)]
        body: Bytes,
    }

    pub trait Svc {
        #[wire(code = 1)]
        fn first(body: Bytes) -> Bytes;
        #[wire(code = 1)]
        fn second(body: Bytes) -> Bytes;
    }
}

fn main() {}
