// A flags set is generated as a struct of bits in place of the enum, which a derive
// cannot do: it needs the protocol module.
#[derive(polywire::Message, Clone, Copy)]
#[wire(flags)]
#[repr(u8)]
pub enum Features {
    Pipelining = 0,
    Compression = 1,
}

fn main() {}
