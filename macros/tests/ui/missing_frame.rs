#[polywire::protocol(id = "t")]
mod t {
    pub trait Svc {
        #[wire(code = 1)]
        fn echo(body: Bytes) -> Bytes;
    }
}

fn main() {}
