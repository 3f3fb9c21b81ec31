//! Every message of the native protocol decoded on its own (binary layout), chosen by the
//! first byte: the handshake's `Hello`, `Accept` and `Reject`, the `LogHeader`, a `Frame`
//! without its codec.

use crate::check_message;
use crate::native::*;

/// The target's check on one input.
pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let limits = protocol_info::LIMITS;
    match which % 5 {
        0 => drop(check_message::<Hello>(rest, limits)),
        1 => drop(check_message::<Accept>(rest, limits)),
        2 => drop(check_message::<Reject>(rest, limits)),
        3 => drop(check_message::<LogHeader>(rest, limits)),
        _ => drop(check_message::<Frame>(rest, limits)),
    }
}
