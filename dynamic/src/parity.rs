//! Holding the interpreter to the generated code: one input through a generated codec and
//! through a [`DynCodec`] over the same `.wire` file must give the same frame boundaries
//! for every prefix, the same frames (compared by their bytes when encoded again), the
//! same error and the same bytes left; a frame's JSON form read back must encode to the
//! same bytes. The parity tests and the `dynamic_parity` fuzz target run it.

use crate::{DynCodec, Value};
use bytes::BytesMut;
use polywire_core::Codec;
use std::fmt::Debug;

/// Runs `input` through both codecs, in batches of one frame and of many; the frames
/// decoded, or what differed.
pub fn check<C>(mut generated: C, mut dynamic: DynCodec, input: &[u8]) -> Result<usize, String>
where
    C: Codec,
    C::Frame: Debug,
{
    let step = (input.len() / 200).max(1);
    for end in (0..=input.len()).step_by(step) {
        let (a, b) = (
            generated.frame_len(&input[..end]),
            dynamic.frame_len(&input[..end]),
        );
        if a != b {
            return Err(format!(
                "frame_len of the first {end} bytes: generated {a:?}, interpreted {b:?}"
            ));
        }
    }
    let mut frames = 0;
    for batch in [1, 64] {
        let (mut a, mut b) = (BytesMut::from(input), BytesMut::from(input));
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        for _ in 0..1000 {
            let ra = generated.decode_batch(&mut a, batch, |f| fa.push(f));
            let rb = dynamic.decode_batch(&mut b, batch, |f| fb.push(f));
            if fa.len() != fb.len() {
                return Err(format!(
                    "batches of {batch}: generated {} frames, interpreted {}",
                    fa.len(),
                    fb.len()
                ));
            }
            match (ra, rb) {
                (Ok(na), Ok(nb)) if na == nb => {
                    if na == 0 {
                        break;
                    }
                }
                (Err(ea), Err(eb)) if ea == eb => break,
                (ra, rb) => {
                    return Err(format!(
                        "batches of {batch}: generated {ra:?}, interpreted {rb:?}"
                    ));
                }
            }
        }
        if a != b {
            return Err(format!(
                "batches of {batch}: bytes left: generated {a:?}, interpreted {b:?}"
            ));
        }
        for (x, y) in fa.iter().zip(&fb) {
            let (mut ea, mut eb) = (BytesMut::new(), BytesMut::new());
            let ra = generated.encode(x, &mut ea);
            let rb = dynamic.encode(y, &mut eb);
            if ra != rb || ea != eb {
                return Err(format!(
                    "encoding {x:?}: generated {ra:?} {ea:?}, interpreted {rb:?} {eb:?}"
                ));
            }
            if ra.is_ok() {
                json_round_trip(&dynamic, y, &eb)?;
            }
        }
        frames = fa.len();
    }
    Ok(frames)
}

/// A decoded frame written as JSON and read back encodes to the same bytes.
fn json_round_trip(dynamic: &DynCodec, v: &Value, bytes: &[u8]) -> Result<(), String> {
    let schema = dynamic.schema();
    let json = v.to_json();
    let back = schema
        .value_from_json(dynamic.ty, &json)
        .map_err(|e| format!("{json} does not read back: {e}"))?;
    let mut dst = BytesMut::new();
    schema
        .encode_message(dynamic.ty, &back, dynamic.version, &mut dst)
        .map_err(|e| format!("{json} read back does not encode: {e}"))?;
    if dst != bytes {
        return Err(format!(
            "{json} read back encodes to {dst:?}, not {bytes:?}"
        ));
    }
    Ok(())
}
