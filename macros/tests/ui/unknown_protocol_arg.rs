#[polywire::protocol(id = "t", version = 1..=2)]
mod t {}

fn main() {}
