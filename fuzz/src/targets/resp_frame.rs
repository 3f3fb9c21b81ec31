//! Redis's RESP values on a stream (text framing: no length prefix, each value measured by
//! decoding it; lines ended by CRLF, ASCII decimal lengths, nesting up to `max_depth`).

use crate::check_codec;
use crate::resp::ValueCodec;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    check_codec(ValueCodec::new(), data);
}
