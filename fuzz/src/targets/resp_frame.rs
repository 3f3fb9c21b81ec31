//! Redis's RESP values on a stream (text framing: no length prefix, each value measured by
//! decoding it; lines ended by CRLF, ASCII decimal lengths, nesting up to `max_depth`), and
//! the same bytes read as one `Command` (an array, or else an inline line).

use crate::resp::{Command, ValueCodec};
use crate::{check_codec, check_message};
use polywire::Codec;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let codec = ValueCodec::new();
    let limits = *codec.limits();
    check_codec(codec, data);
    check_message::<Command>(data, limits);
}
