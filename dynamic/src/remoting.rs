//! A protocol loaded at run time, served and called by the runtime's `RemotingServer` and
//! `RemotingClient` like a generated one: [`DynProtocol`] implements
//! [`Protocol`](polywire_core::Protocol) over [`DynFrame`]s, the frame's [`Value`] with the
//! fields that play the remoting roles (`@correlation`, `@kind`, `@code`, `@message`,
//! `@echo`) found in the IR as the emitter finds them. Processors take and return
//! `DynFrame`s; a `MultiServer` takes the server beside generated ones, and `replace` swaps
//! in the server of an edited `.wire` file while connections already open finish on the old.

use crate::{DynCodec, Schema, SchemaError, Value, intern};
use bytes::BytesMut;
use polywire_codegen::ir::*;
use polywire_core::{
    Codec, DecodeError, Detection, Detector, EncodeError, ErrorStatus, FrameKind, Limits,
    RemotingFrame, Str,
};
use std::sync::Arc;

/// Where a role's field is: field names from the frame inward.
type Path = Vec<&'static str>;

/// The `detect` rules: any one set of `(offset, bytes)` rules, each holding.
type DetectRules = Vec<Vec<(usize, Vec<u8>)>>;

/// The frame's fields that play the remoting roles, and the statuses of its responses.
#[derive(Debug)]
struct Roles {
    correlation: Option<(Path, IntType)>,
    /// The `@kind` flags, its response bit and its oneway bit (bit indexes).
    kind: Option<(Path, Option<u32>, Option<u32>)>,
    code: Option<(Path, IntType)>,
    message: Option<(Path, Type)>,
    /// Echoed fields of the frame (a top-level field or bit part) and their types.
    echo: Vec<(&'static str, Type)>,
    ok: i128,
    /// Every status of the `responses` enum (empty: it declares none).
    known: Vec<i128>,
    /// Not supported, system error, busy: the code and the message template.
    statuses: [(i128, Option<String>); 3],
}

/// A frame of a protocol loaded at run time: its value and the roles of its fields.
#[derive(Debug, Clone)]
pub struct DynFrame {
    /// The frame, as [`DynCodec`] decodes and encodes it.
    pub value: Value,
    roles: Arc<Roles>,
}

impl DynFrame {
    /// The field at `path` (`["header", "code"]`).
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.value, |v, name| v.field(name))
    }

    /// Sets the field at `path`, adding it when it is not there.
    pub fn set(&mut self, path: &[&str], v: Value) {
        set_path(&mut self.value, path, v);
    }

    /// A frame with the same roles holding `value` (a response built from scratch).
    pub fn with_value(&self, value: Value) -> DynFrame {
        DynFrame {
            value,
            roles: self.roles.clone(),
        }
    }
}

fn set_path(v: &mut Value, path: &[&str], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    let Value::Struct { fields, .. } = v else {
        return;
    };
    match fields.iter_mut().find(|(n, _)| n == first) {
        Some((_, x)) => set_path(x, rest, new),
        None if rest.is_empty() => fields.push((intern(first), new)),
        None => {}
    }
}

fn int_at(v: &Value, path: &[&'static str]) -> i128 {
    path.iter()
        .try_fold(v, |v, name| v.field(name))
        .and_then(Value::as_int)
        .unwrap_or(0)
}

impl RemotingFrame for DynFrame {
    fn correlation_id(&self) -> u64 {
        self.roles
            .correlation
            .as_ref()
            .map_or(0, |(p, _)| int_at(&self.value, p) as u64)
    }

    fn set_correlation_id(&mut self, id: u64) {
        if let Some((p, t)) = &self.roles.correlation {
            let v = Value::Int(crate::decode::cast(i128::from(id), t));
            set_path(&mut self.value, p, v);
        }
    }

    fn kind(&self) -> FrameKind {
        let Some((p, resp, oneway)) = &self.roles.kind else {
            return FrameKind::Request;
        };
        let bits = int_at(&self.value, p);
        let has = |b: &Option<u32>| b.is_some_and(|b| bits >> b & 1 == 1);
        if has(resp) {
            FrameKind::Response
        } else if has(oneway) {
            FrameKind::Oneway
        } else {
            FrameKind::Request
        }
    }

    fn set_kind(&mut self, kind: FrameKind) {
        let Some((p, resp, oneway)) = self.roles.kind.clone() else {
            return;
        };
        let mut bits = int_at(&self.value, &p);
        for b in [resp, oneway].into_iter().flatten() {
            bits &= !(1i128 << b);
        }
        match (kind, resp, oneway) {
            (FrameKind::Response, Some(b), _) | (FrameKind::Oneway, _, Some(b)) => {
                bits |= 1i128 << b
            }
            _ => {}
        }
        set_path(&mut self.value, &p, Value::Flags(bits));
    }

    fn code(&self) -> i64 {
        self.roles
            .code
            .as_ref()
            .map_or(0, |(p, _)| int_at(&self.value, p) as i64)
    }

    fn set_code(&mut self, code: i64) {
        if let Some((p, t)) = &self.roles.code {
            let v = Value::Int(crate::decode::cast(i128::from(code), t));
            set_path(&mut self.value, p, v);
        }
    }

    fn echo(&self) -> u64 {
        let mut out = 0u64;
        for (i, (name, _)) in self.roles.echo.iter().enumerate().take(4) {
            let v = self.value.field(name).and_then(Value::as_int).unwrap_or(0) as u64 & 0xffff;
            out |= v << (16 * i);
        }
        out
    }

    fn apply_echo(&mut self, echo: u64) {
        for (i, (name, ty)) in self.roles.echo.iter().enumerate().take(4) {
            let slot = i128::from((echo >> (16 * i)) & 0xffff);
            let v = match ty {
                Type::Bool => Value::Bool(slot & 1 != 0),
                _ => Value::Int(slot),
            };
            let v = match (self.value.field(name), v) {
                // An enum keeps its kind (and its name when the value has one).
                (Some(Value::Enum { .. }), Value::Int(n)) => Value::Enum {
                    value: n,
                    name: None,
                },
                (_, v) => v,
            };
            set_path(&mut self.value, &[*name], v);
        }
    }
}

/// The codec of [`DynFrame`]s: a [`DynCodec`] that hands frames their roles.
#[derive(Debug, Clone)]
pub struct DynFrameCodec {
    inner: DynCodec,
    roles: Arc<Roles>,
}

impl Codec for DynFrameCodec {
    type Frame = DynFrame;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<DynFrame>, DecodeError> {
        Ok(self.inner.decode(src)?.map(|value| DynFrame {
            value,
            roles: self.roles.clone(),
        }))
    }

    fn decode_batch<G: FnMut(DynFrame)>(
        &mut self,
        src: &mut BytesMut,
        max: usize,
        mut f: G,
    ) -> Result<usize, DecodeError> {
        let roles = &self.roles;
        self.inner.decode_batch(src, max, |value| {
            f(DynFrame {
                value,
                roles: roles.clone(),
            })
        })
    }

    fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        self.inner.frame_len(buf)
    }

    fn encode(&mut self, frame: &DynFrame, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.inner.encode(&frame.value, dst)
    }

    fn limits(&self) -> &Limits {
        self.inner.limits()
    }

    fn set_version(&mut self, version: u32) {
        self.inner.set_version(version);
    }
}

/// A protocol loaded at run time, for `RemotingServer` and `RemotingClient`.
#[derive(Debug, Clone)]
pub struct DynProtocol {
    codec: DynCodec,
    roles: Arc<Roles>,
    id: &'static str,
    detect: Arc<DetectRules>,
    /// A new frame: every field at its default.
    blank: Value,
    handshake: Option<DynHandshake>,
}

impl DynProtocol {
    /// Loads a `.wire` file's protocol. Its frame must be a struct with `@correlation` and
    /// `@kind` fields (the shape `RemotingServer` serves); its `handshake`, if any, is
    /// carried out as the generated `VersionHandshake` does.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<DynProtocol, SchemaError> {
        DynProtocol::new(&Schema::load(path)?)
    }

    /// The protocol of a schema (see [`DynProtocol::load`]).
    pub fn new(schema: &Schema) -> Result<DynProtocol, SchemaError> {
        let p = schema.ir();
        let err = |m: &str| SchemaError(format!("protocol `{}`: {m}", p.name));
        let frame = p.frame_struct().ok_or_else(|| {
            err("its frame is not a struct with `@correlation` and `@kind` fields (a union frame is served by `MessageServer`)")
        })?;
        let find = |attr: &str| find_marked(p, frame, attr);
        let int = |t: &Type| match t {
            Type::Int(i) => Some(*i),
            Type::Varint { signed, .. } => Some(IntType {
                bytes: 8,
                signed: *signed,
                endian: Endian::Big,
            }),
            _ => None,
        };
        let correlation = find("correlation").and_then(|(p, t)| Some((p, int(&t)?)));
        let kind = find("kind").and_then(|(path, t)| match t {
            Type::Named(i) => match &p.types[i] {
                TypeDef::Flags(fl) => {
                    let bit = |attr: &str| {
                        fl.bits
                            .iter()
                            .find(|b| b.attrs.iter().any(|a| a == attr))
                            .map(|b| b.value as u32)
                    };
                    Some((path, bit("response"), bit("oneway")))
                }
                _ => None,
            },
            _ => None,
        });
        if correlation.is_none() || kind.is_none() {
            return Err(err(
                "its frame has no `@correlation` integer or no `@kind` flags",
            ));
        }
        let code = find("code").and_then(|(p, t)| Some((p, int(&t)?)));
        let message = find("message");
        let mut echo = Vec::new();
        for f in &frame.fields {
            match &f.kind {
                FieldKind::Value(t) if f.attrs.iter().any(|a| a == "echo") => {
                    echo.push((intern(&f.name), t.clone()))
                }
                FieldKind::Bits { parts, .. } => {
                    for part in parts.iter().filter(|x| {
                        x.attrs.iter().any(|a| a == "echo") && x.value == PartValue::Stored
                    }) {
                        echo.push((intern(&part.name), part.ty.clone()));
                    }
                }
                _ => {}
            }
        }
        let variant = |attr: &str| -> Option<&Variant> {
            p.responses.and_then(|ri| match &p.types[ri] {
                TypeDef::Enum(e) => e
                    .variants
                    .iter()
                    .find(|v| v.attrs.iter().any(|a| a == attr)),
                _ => None,
            })
        };
        let status = |attr: &str, fallback: i128| variant(attr).map_or(fallback, |v| v.value);
        let template = |attr: &str| variant(attr).and_then(|v| v.message.clone());
        let system = status("system_error", 1);
        let roles = Roles {
            correlation,
            kind,
            code,
            message,
            echo,
            ok: status("success", 0),
            known: p
                .responses
                .and_then(|ri| match &p.types[ri] {
                    TypeDef::Enum(e) => Some(e.variants.iter().map(|v| v.value).collect()),
                    _ => None,
                })
                .unwrap_or_default(),
            statuses: [
                (status("not_supported", system), template("not_supported")),
                (system, template("system_error")),
                (status("busy", system), template("busy")),
            ],
        };
        let ty = p.frame.unwrap_or(0);
        let blank = schema
            .value_from_json(ty, &serde_json::json!({}))
            .map_err(|e| err(&format!("its frame has no default: {e}")))?;
        Ok(DynProtocol {
            codec: DynCodec::new(schema)?,
            roles: Arc::new(roles),
            id: intern(&p.id),
            detect: Arc::new(
                p.detect
                    .iter()
                    .map(|set| set.iter().map(|r| (r.at, r.bytes.clone())).collect())
                    .collect(),
            ),
            blank,
            handshake: p
                .handshake
                .as_ref()
                .map(|h| DynHandshake::new(schema, h))
                .transpose()?,
        })
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        self.codec.schema()
    }

    /// A frame of this protocol holding `value`.
    pub fn frame(&self, value: Value) -> DynFrame {
        DynFrame {
            value,
            roles: self.roles.clone(),
        }
    }
}

impl Detector for DynProtocol {
    fn detect(&self, first: &[u8]) -> Detection {
        polywire_core::protocol::detect_any(
            self.detect
                .iter()
                .map(|set| set.iter().map(|(at, b)| (*at, &b[..]))),
            first,
        )
    }
}

impl polywire_core::Protocol for DynProtocol {
    type Frame = DynFrame;
    type Codec = DynFrameCodec;

    fn id(&self) -> &'static str {
        self.id
    }

    fn codec(&self) -> DynFrameCodec {
        DynFrameCodec {
            inner: self.codec.clone(),
            roles: self.roles.clone(),
        }
    }

    fn request(&self, code: i64) -> DynFrame {
        let mut f = self.frame(self.blank.clone());
        f.set_code(code);
        f
    }

    fn error_response(&self, request_code: i64, status: ErrorStatus, message: &str) -> DynFrame {
        let mut f = self.frame(self.blank.clone());
        let (code, template) = &self.roles.statuses[match status {
            ErrorStatus::NotSupported => 0,
            ErrorStatus::SystemError => 1,
            ErrorStatus::Busy => 2,
        }];
        f.set_code(*code as i64);
        let text = match template {
            Some(t) => t.replace("{code}", &request_code.to_string()),
            None => message.to_string(),
        };
        if let Some((path, ty)) = &self.roles.message {
            let v = match ty {
                Type::Bytes { .. } => Value::Bytes(bytes::Bytes::from(text.into_bytes())),
                _ => Value::Str(Str::from(text)),
            };
            f.set(path, v);
        }
        f
    }

    fn detector(&self) -> Option<&dyn Detector> {
        (!self.detect.is_empty()).then_some(self as &dyn Detector)
    }

    fn handshake(&self) -> Option<&dyn polywire_core::Handshake> {
        self.handshake
            .as_ref()
            .map(|h| h as &dyn polywire_core::Handshake)
    }

    fn is_status(&self, code: i64) -> bool {
        self.roles.known.is_empty() || self.roles.known.contains(&i128::from(code))
    }

    fn message(&self, response: &DynFrame) -> Option<String> {
        let (path, _) = self.roles.message.as_ref()?;
        match response.get(path)? {
            Value::Str(s) if !s.is_empty() => Some(s.as_str().to_string()),
            Value::Bytes(b) if !b.is_empty() => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    fn is_success(&self, response: &DynFrame) -> bool {
        match &self.roles.code {
            Some(_) => i128::from(response.code()) == self.roles.ok,
            None => true,
        }
    }
}

/// A field marked `attr` in `s` or in the structs it holds (`emit::find_marked`): its path
/// and its type (a widened integer's wider type).
fn find_marked(p: &Protocol, s: &StructDef, attr: &str) -> Option<(Path, Type)> {
    for f in &s.fields {
        let marked = match attr {
            "correlation" => f.correlation,
            "kind" => f.kind_marker,
            _ => f.attrs.iter().any(|a| a == attr),
        };
        if marked && let FieldKind::Value(t) = &f.kind {
            return Some((
                vec![intern(&f.name)],
                f.widen.map_or_else(|| t.clone(), Type::Int),
            ));
        }
    }
    for f in &s.fields {
        let inner = match &f.kind {
            FieldKind::Value(Type::Named(i)) | FieldKind::Switch { ty: i, .. } => *i,
            _ => continue,
        };
        if let TypeDef::Struct(sub) = &p.types[inner]
            && let Some((mut path, t)) = find_marked(p, sub, attr)
        {
            path.insert(0, intern(&f.name));
            return Some((path, t));
        }
    }
    None
}

/// A protocol's `handshake` block carried out at run time, as the generated
/// `VersionHandshake` implementation does: the hello's `@min_version`, `@max_version` and
/// `@features` fields, the accept's `@version` and `@features`, the reject's range.
#[derive(Debug, Clone)]
struct DynHandshake {
    schema: Arc<Schema>,
    hello: (usize, Value),
    accept: (usize, Value),
    reject: Option<(usize, Value)>,
    versions: (u32, u32),
    highest: bool,
}

impl DynHandshake {
    fn new(schema: &Schema, h: &Handshake) -> Result<DynHandshake, SchemaError> {
        let blank = |ty: usize| {
            schema
                .value_from_json(ty, &serde_json::json!({}))
                .map(|v| (ty, v))
                .map_err(|e| SchemaError(e.to_string()))
        };
        Ok(DynHandshake {
            schema: Arc::new(schema.clone()),
            hello: blank(h.hello)?,
            accept: blank(h.accept)?,
            reject: h.reject.map(blank).transpose()?,
            versions: schema.ir().versions.unwrap_or((0, 0)),
            highest: h.choose == "highest",
        })
    }

    /// The field of message `ty` marked `attr`.
    fn role(&self, ty: usize, attr: &str) -> Option<(&'static str, &Type)> {
        self.schema
            .ir()
            .struct_def(ty)
            .fields
            .iter()
            .find_map(|f| match &f.kind {
                FieldKind::Value(t) if f.attrs.iter().any(|a| a == attr) => {
                    Some((intern(&f.name), t))
                }
                _ => None,
            })
    }

    fn with(&self, (ty, blank): &(usize, Value), sets: &[(&str, u64)]) -> Value {
        let mut v = blank.clone();
        for (attr, x) in sets {
            if let Some((name, t)) = self.role(*ty, attr) {
                let x = match t {
                    Type::Int(i) => Value::Int(crate::decode::cast(i128::from(*x), i)),
                    Type::Named(i) => match &self.schema.ir().types[*i] {
                        TypeDef::Flags(fl) => {
                            Value::Flags(crate::decode::cast(i128::from(*x), &fl.repr))
                        }
                        _ => continue,
                    },
                    _ => Value::Int(i128::from(*x)),
                };
                set_path(&mut v, &[name], x);
            }
        }
        v
    }

    fn get(&self, ty: usize, v: &Value, attr: &str, bits: u32) -> u64 {
        let Some((name, t)) = self.role(ty, attr) else {
            return 0;
        };
        let n = v.field(name).and_then(Value::as_int).unwrap_or(0);
        // Widened as the generated code widens: an unsigned field from its value, others cast.
        let unsigned = match t {
            Type::Int(i) => !i.signed,
            Type::Named(i) => {
                matches!(&self.schema.ir().types[*i], TypeDef::Flags(f) if !f.repr.signed)
            }
            _ => false,
        };
        let raw = if unsigned { n as u64 } else { n as i64 as u64 };
        if bits == 32 {
            u64::from(raw as u32)
        } else {
            raw
        }
    }

    /// `decode_partial`: the message at the front of `buf`, taken off it; `None` while it
    /// is incomplete.
    fn partial(&self, ty: usize, buf: &mut BytesMut) -> Result<Option<Value>, DecodeError> {
        let dec = crate::decode::Dec::new(&self.schema);
        polywire_core::protocol::decode_partial_with(buf, self.schema.limits(), |r| {
            dec.message(ty, r)
        })
    }

    fn encode(&self, ty: usize, v: &Value, out: &mut BytesMut) -> Result<(), EncodeError> {
        self.schema.encode_message(ty, v, 0, out)
    }
}

impl polywire_core::protocol::HandshakeSteps for DynHandshake {
    type Hello = Value;
    type Accept = Value;
    type Reject = Value;

    fn read_hello(&self, buf: &mut BytesMut) -> Result<Option<Value>, DecodeError> {
        self.partial(self.hello.0, buf)
    }

    fn read_accept(&self, buf: &mut BytesMut) -> Result<Option<Value>, DecodeError> {
        self.partial(self.accept.0, buf)
    }

    fn read_reject(&self, buf: &mut BytesMut) -> Result<Option<Value>, DecodeError> {
        match &self.reject {
            Some((ty, _)) => self.partial(*ty, buf),
            None => Ok(None),
        }
    }

    fn rejects(&self) -> bool {
        self.reject.is_some()
    }

    fn highest(&self) -> bool {
        self.highest
    }

    fn offer(&self, hello: &Value) -> (u32, u32, u64) {
        let ht = self.hello.0;
        (
            self.get(ht, hello, "min_version", 32) as u32,
            self.get(ht, hello, "max_version", 32) as u32,
            self.get(ht, hello, "features", 64),
        )
    }

    fn accepted(&self, accept: &Value) -> polywire_core::Negotiated {
        let at = self.accept.0;
        polywire_core::Negotiated {
            version: self.get(at, accept, "version", 32) as u32,
            features: self.get(at, accept, "features", 64),
        }
    }

    fn rejected(&self, reject: &Value) -> (u32, u32) {
        let rt = self.reject.as_ref().map_or(0, |(ty, _)| *ty);
        (
            self.get(rt, reject, "min_version", 32) as u32,
            self.get(rt, reject, "max_version", 32) as u32,
        )
    }

    fn write_accept(
        &self,
        version: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let v = self.with(
            &self.accept,
            &[("version", u64::from(version)), ("features", features)],
        );
        self.encode(self.accept.0, &v, out)
    }

    fn write_reject(&self, ours: (u32, u32), out: &mut BytesMut) -> Result<(), EncodeError> {
        let Some(r) = &self.reject else { return Ok(()) };
        let mut v = self.with(
            r,
            &[
                ("min_version", u64::from(ours.0)),
                ("max_version", u64::from(ours.1)),
            ],
        );
        // The generated reject says why in its string field.
        if let Some(f) = self
            .schema
            .ir()
            .struct_def(r.0)
            .fields
            .iter()
            .find(|f| matches!(&f.kind, FieldKind::Value(Type::String { .. })))
        {
            set_path(
                &mut v,
                &[intern(&f.name)],
                Value::Str(Str::from("no common version")),
            );
        }
        self.encode(r.0, &v, out)
    }
}

impl polywire_core::Handshake for DynHandshake {
    fn versions(&self) -> (u32, u32) {
        self.versions
    }

    fn client_hello(
        &self,
        min: u32,
        max: u32,
        features: u64,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let v = self.with(
            &self.hello,
            &[
                ("min_version", u64::from(min)),
                ("max_version", u64::from(max)),
                ("features", features),
            ],
        );
        self.encode(self.hello.0, &v, out)
    }

    fn client_read_reply(
        &self,
        buf: &mut BytesMut,
    ) -> Result<polywire_core::HandshakeEvent, DecodeError> {
        polywire_core::protocol::read_reply(self, buf)
    }

    fn server_read_hello(
        &self,
        buf: &mut BytesMut,
        ours: (u32, u32),
        features: u64,
        out: &mut BytesMut,
    ) -> Result<polywire_core::HandshakeEvent, DecodeError> {
        polywire_core::protocol::answer_hello(self, buf, ours, features, out)
    }
}
