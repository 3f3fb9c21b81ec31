//! RocketMQ frames as JSON, through the generated codec.

use crate::{parse_hex, to_hex};
use polywire::bytes::BytesMut;
use polywire::{Codec, OrderedMap, Str};
use polywire_protocols::rocketmq::{Frame, FrameCodec, Header, LanguageCode, RpcFlag};
use serde::{Deserialize, Serialize};

/// The JSON view of one frame.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct View {
    /// `JSON` or `ROCKETMQ`.
    serialize_type: String,
    code: i32,
    /// Name, or the number of a language code without a name.
    language: serde_json::Value,
    version: i32,
    opaque: i32,
    flag: i32,
    #[serde(default)]
    remark: Option<String>,
    #[serde(default)]
    ext_fields: Option<OrderedMap<String, String>>,
    /// Hex; absent or empty for no body.
    #[serde(default)]
    body: Option<String>,
}

/// Hex frame → JSON.
pub fn decode(input: &str) -> Result<String, String> {
    let bytes = parse_hex(input)?;
    let total = bytes.len();
    let mut buf = BytesMut::from(&bytes[..]);
    let frame = FrameCodec::new()
        .decode(&mut buf)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("at byte {total}: the frame is incomplete ({total} bytes given)"))?;
    if !buf.is_empty() {
        return Err(format!(
            "at byte {}: {} byte(s) after the frame",
            total - buf.len(),
            buf.len()
        ));
    }
    let h = &frame.header;
    let view = View {
        serialize_type: match frame.serialize {
            0 => "JSON".into(),
            1 => "ROCKETMQ".into(),
            n => n.to_string(),
        },
        code: h.code,
        language: match h.language.name() {
            Some(n) => n.into(),
            None => h.language.to_repr().into(),
        },
        version: h.version,
        opaque: h.opaque,
        flag: h.flag.bits(),
        remark: h.remark.as_ref().map(|r| r.to_string()),
        ext_fields: h.ext_fields.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
        body: (!frame.body.is_empty()).then(|| to_hex(&frame.body)),
    };
    serde_json::to_string_pretty(&view).map_err(|e| e.to_string())
}

/// JSON → hex frame.
pub fn encode(input: &str) -> Result<String, String> {
    let view: View = serde_json::from_str(input).map_err(|e| {
        format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let serialize = match view.serialize_type.as_str() {
        "JSON" => 0,
        "ROCKETMQ" => 1,
        other => {
            return Err(format!(
                "field `serializeType`: `{other}` is neither JSON nor ROCKETMQ"
            ));
        }
    };
    let language = match &view.language {
        serde_json::Value::String(n) => LanguageCode::from_name(n)
            .ok_or_else(|| format!("field `language`: unknown language `{n}`"))?,
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|v| u8::try_from(v).ok())
            .map(LanguageCode::from_repr)
            .ok_or_else(|| format!("field `language`: {n} is not a byte"))?,
        other => {
            return Err(format!(
                "field `language`: expected a name or a number, found {other}"
            ));
        }
    };
    let body = match &view.body {
        Some(h) => parse_hex(h).map_err(|e| format!("field `body`: {e}"))?,
        None => Vec::new(),
    };
    let frame = Frame {
        serialize,
        header: Header {
            code: view.code,
            language,
            version: view.version,
            opaque: view.opaque,
            flag: RpcFlag::from_bits(view.flag),
            remark: view.remark.map(Str::from),
            ext_fields: view.ext_fields.map(|m| {
                m.into_iter()
                    .map(|(k, v)| (Str::from(k), Str::from(v)))
                    .collect()
            }),
        },
        body: body.into(),
    };
    let mut out = BytesMut::new();
    FrameCodec::new()
        .encode(&frame, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(to_hex(&out))
}
