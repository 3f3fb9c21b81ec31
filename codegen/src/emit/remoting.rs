//! Bindings to the remoting runtime: `RemotingFrame` for the frame, a `<Name>Protocol`
//! type implementing `Protocol` (and `Handshake` from the handshake block), string
//! conversions for headers carried in a map, and per service a server trait, its
//! registration and a typed client.

use super::find_marked;
use super::rust::{Gen, ident, lit, pascal, pascal_prefix, screaming};
use crate::ir::*;

const P: &str = "::polywire::__private";

/// The frame's marked fields, resolved.
struct Roles {
    code: Option<(String, Type)>,
    body: Option<String>,
    message: Option<(String, Type)>,
}

fn roles(p: &Protocol, frame: &StructDef) -> Roles {
    let attr = |name: &'static str| move |f: &Field| f.attrs.iter().any(|a| a == name);
    let body = frame
        .fields
        .iter()
        .find(|f| {
            f.region == Region::Rest && matches!(f.kind, FieldKind::Value(Type::Bytes { .. }))
        })
        .map(|f| ident(&f.name));
    Roles {
        code: find_marked(p, frame, &attr("code")),
        body,
        message: find_marked(p, frame, &attr("message")),
    }
}

fn int_cast(ty: &Type) -> String {
    match ty {
        Type::Int(i) => i.rust().to_string(),
        Type::Varint { signed: false, .. } => "u64".into(),
        _ => "i64".into(),
    }
}

/// A pattern matching exactly `values`: runs of consecutive values as ranges.
fn value_pattern(values: impl Iterator<Item = i128>) -> String {
    let mut v: Vec<i128> = values.collect();
    v.sort_unstable();
    v.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}..={}", v[i], v[j])
        } else {
            v[i].to_string()
        });
        i = j + 1;
    }
    parts.join(" | ")
}

/// The frame of a protocol that gets a protocol type (`NativeProtocol`) and the rest of
/// this file's bindings: a struct frame with `@correlation` and `@kind` fields.
pub fn remoting_frame(p: &Protocol) -> Option<&StructDef> {
    let frame = p.frame_struct()?;
    find_marked(p, frame, &|f| f.correlation)?;
    find_marked(p, frame, &|f| f.kind_marker)?;
    Some(frame)
}

/// The protocol type's name (`NativeProtocol`).
pub fn protocol_type(p: &Protocol) -> String {
    format!("{}Protocol", pascal_prefix(&p.name))
}

/// `echo`/`apply_echo` for the frame's `@echo` fields and bit parts (integers and enums,
/// packed into a u64, 16 bits each).
fn echo_fns(g: &Gen, frame: &StructDef) -> (String, String) {
    let mut fields: Vec<(String, Type)> = Vec::new();
    for f in &frame.fields {
        match &f.kind {
            FieldKind::Value(t) if f.attrs.iter().any(|a| a == "echo") => {
                fields.push((ident(&f.name), t.clone()))
            }
            FieldKind::Bits { parts, .. } => {
                for p in parts
                    .iter()
                    .filter(|p| p.attrs.iter().any(|a| a == "echo") && p.value == PartValue::Stored)
                {
                    fields.push((ident(&p.name), p.ty.clone()));
                }
            }
            _ => {}
        }
    }
    if fields.is_empty() {
        return (String::new(), String::new());
    }
    let mut get = Vec::new();
    let mut set = String::new();
    for (i, (name, ty)) in fields.iter().enumerate().take(4) {
        let shift = i * 16;
        let slot = if shift == 0 {
            "echo".to_string()
        } else {
            format!("(echo >> {shift})")
        };
        let (to, from) = match ty {
            Type::Named(n) => match &g.p.types[*n] {
                TypeDef::Enum(e) => (
                    format!("(self.{name}.to_repr() as u64 & 0xffff)"),
                    format!(
                        "{}::from_repr(({slot} & 0xffff) as {})",
                        e.name,
                        e.repr.rust()
                    ),
                ),
                _ => continue,
            },
            Type::Bool => (
                format!("u64::from(self.{name})"),
                format!("{slot} & 1 != 0"),
            ),
            t => (
                format!("(self.{name} as u64 & 0xffff)"),
                format!("({slot} & 0xffff) as {}", g.rust_type(t)),
            ),
        };
        let from = match ty {
            Type::Named(n) => match &g.p.types[*n] {
                TypeDef::Enum(e) if !e.open => {
                    format!("if let ::std::option::Option::Some(v) = {from} {{ self.{name} = v; }}")
                }
                _ => format!("self.{name} = {from};"),
            },
            _ => format!("self.{name} = {from};"),
        };
        get.push(if shift == 0 {
            to
        } else {
            format!("({to} << {shift})")
        });
        set += &from;
    }
    (
        format!(
            "#[inline] fn echo(&self) -> u64 {{ {} }}",
            super::rust::unparen(&get.join(" | "))
        ),
        format!("#[inline] fn apply_echo(&mut self, echo: u64) {{ {set} }}"),
    )
}

/// Everything for `polywire::rt`; empty when the protocol has no frame with the roles.
/// Without `services`, only what compiles against `polywire-core` (`RemotingFrame`,
/// `Protocol`, `Handshake`, header conversions): no service traits or typed clients.
pub fn emit(g: &Gen, sides: super::Sides) -> String {
    let services = sides.server || sides.client;
    let p = g.p;
    let Some(frame) = remoting_frame(p) else {
        return String::new();
    };
    let r = roles(p, frame);
    let fname = &frame.name;
    let pt = protocol_type(p);
    let mut out = String::new();

    // RemotingFrame.
    let (code_get, code_set) = match &r.code {
        Some((path, ty)) => (
            format!("self.{path} as i64"),
            format!("self.{path} = code as {};", int_cast(ty)),
        ),
        None => ("0".into(), "let _ = code;".into()),
    };
    let (echo_get, echo_set) = echo_fns(g, frame);
    let accessors = super::frame_accessors(g, frame, false);
    out += &format!(
        "impl {P}::RemotingFrame for {fname} {{
            {echo_get}
            {echo_set}
            {accessors}
            #[inline]
            fn code(&self) -> i64 {{ {code_get} }}
            #[inline]
            fn set_code(&mut self, code: i64) {{ {code_set} }}
        }}

        /// The frame's methods (`kind()`), in scope where this module is glob-imported.
        pub use {P}::RemotingFrame as _;\n"
    );

    // Status values (and message templates) from the responses enum.
    let variant = |attr: &str| -> Option<&Variant> {
        p.responses.and_then(|ri| match &p.types[ri] {
            TypeDef::Enum(e) => e
                .variants
                .iter()
                .find(|v| v.attrs.iter().any(|a| a == attr)),
            _ => None,
        })
    };
    let status =
        |attr: &str, fallback: i128| -> i128 { variant(attr).map_or(fallback, |v| v.value) };
    let template = |attr: &str| -> String {
        match variant(attr).and_then(|v| v.message.as_ref()) {
            Some(t) => format!("::std::option::Option::Some({})", lit(t)),
            None => "::std::option::Option::None".into(),
        }
    };
    let ok = status("success", 0);
    let system = status("system_error", 1);
    let not_supported = status("not_supported", system);
    let busy = status("busy", system);
    // The text of the response: the status's template, where the protocol declares one.
    let templated = ["not_supported", "system_error", "busy"]
        .iter()
        .any(|a| variant(a).is_some_and(|v| v.message.is_some()));
    let text = if templated {
        format!(
            "let message = {P}::status_text(status.pick({}, {}, {}), request_code, message);",
            template("not_supported"),
            template("system_error"),
            template("busy"),
        )
    } else {
        String::new()
    };
    let set_message = match &r.message {
        Some((path, Type::String { .. })) if templated => {
            format!("f.{path} = {P}::Str::from(message.into_owned());")
        }
        Some((path, Type::String { .. })) => format!("f.{path} = {P}::Str::from(message);"),
        Some((path, Type::Optional { inner, .. }))
            if matches!(**inner, Type::String { .. }) && templated =>
        {
            format!("f.{path} = ::std::option::Option::Some({P}::Str::from(message.into_owned()));")
        }
        Some((path, Type::Optional { inner, .. })) if matches!(**inner, Type::String { .. }) => {
            format!("f.{path} = ::std::option::Option::Some({P}::Str::from(message));")
        }
        Some((path, Type::Bytes { .. })) => {
            format!("f.{path} = {P}::Bytes::copy_from_slice(message.as_bytes());")
        }
        _ => "let _ = message;".into(),
    };
    let mutable = if set_message.starts_with("f.") {
        "mut "
    } else {
        ""
    };
    let request_code = if templated {
        "request_code"
    } else {
        "_request_code"
    };
    let handshake = p.handshake.as_ref().map(|h| handshake(g, h, &pt));
    let hs_fn = if handshake.is_some() {
        format!(
            "fn handshake(&self) -> ::std::option::Option<&dyn {P}::Handshake> {{ ::std::option::Option::Some(self) }}"
        )
    } else {
        String::new()
    };
    let det_fn = if p.detect.is_empty() {
        String::new()
    } else {
        format!(
            "fn detector(&self) -> ::std::option::Option<&dyn {P}::Detector> {{ \
             static D: {P}::AnyPrefix = {P}::AnyPrefix(protocol_info::DETECT); ::std::option::Option::Some(&D) }}"
        )
    };
    let is_status = match p.responses.map(|ri| &p.types[ri]) {
        Some(TypeDef::Enum(e)) if !e.variants.is_empty() => format!(
            "fn is_status(&self, code: i64) -> bool {{ matches!(code, {}) }}",
            value_pattern(e.variants.iter().map(|v| v.value))
        ),
        _ => String::new(),
    };
    let message_fn = match &r.message {
        Some((path, Type::String { .. } | Type::Bytes { .. })) => format!(
            "fn message(&self, response: &{fname}) -> ::std::option::Option<::std::string::String> {{ \
             {P}::MessageText::message_text(&response.{path}) }}"
        ),
        Some((path, Type::Optional { inner, .. })) if matches!(**inner, Type::String { .. }) => {
            format!(
                "fn message(&self, response: &{fname}) -> ::std::option::Option<::std::string::String> {{ \
                 {P}::MessageText::message_text(&response.{path}) }}"
            )
        }
        _ => String::new(),
    };
    let is_success = match &r.code {
        Some((path, _)) => format!(
            "#[inline] fn is_success(&self, response: &{fname}) -> bool {{ response.{path} as i64 == {ok} }}"
        ),
        None => format!("#[inline] fn is_success(&self, _response: &{fname}) -> bool {{ true }}"),
    };
    // Without the services the code is built on the core alone: no link into `polywire`.
    let runtime = if services {
        "[`polywire::rt`]"
    } else {
        "remoting"
    };
    // The protocol's own `///` text describes the type that stands for it, then its role.
    let mut lines = p.docs.clone();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(
        "The `{}` protocol for {runtime} servers and clients.",
        p.name
    ));
    let docs: String = lines
        .iter()
        .map(|d| match d.as_str() {
            "" => "#[doc = \"\"]".to_string(),
            d => format!("#[doc = {}]", lit(&format!(" {d}"))),
        })
        .collect();
    out += &format!(
        "{docs}
        {at}
        #[derive(Debug, Clone, Copy, Default)]
        pub struct {pt};

        impl {P}::Protocol for {pt} {{
            type Frame = {fname};
            type Codec = {fname}Codec;
            fn id(&self) -> &'static str {{ protocol_info::ID }}
            #[inline]
            fn codec(&self) -> {fname}Codec {{ {fname}Codec::new() }}
            #[inline]
            fn request(&self, code: i64) -> {fname} {{
                let mut f = {fname}::default();
                {P}::RemotingFrame::set_code(&mut f, code);
                f
            }}
            fn error_response(&self, {request_code}: i64, status: {P}::ErrorStatus, message: &str) -> {fname} {{
                let {mutable}f = {P}::Protocol::request(self, status.pick({not_supported}, {system}, {busy}));
                {text}
                {set_message}
                f
            }}
            {is_success}
            {is_status}
            {message_fn}
            {hs_fn}
            {det_fn}
        }}

        impl {pt} {{
            /// The status code of a successful response.
            pub const SUCCESS: i64 = {ok};
        }}\n",
        at = g.at_attrs(p.span)
    );
    if let Some(h) = handshake {
        out += &h;
    }

    // Headers carried as strings.
    let mut headers: Vec<usize> = Vec::new();
    for s in &p.services {
        for rpc in &s.rpcs {
            for part in [&rpc.request, &rpc.response] {
                if let Some(h) = &part.header
                    && !headers.contains(&h.ty)
                {
                    headers.push(h.ty);
                }
            }
        }
    }
    for h in headers {
        out += &header_fields(g, p.struct_def(h));
    }
    if services && !p.services.is_empty() {
        out += "/// The request and response methods, in scope where this module is glob-imported.\n\
                pub use ::polywire::rt::{Payload as _, Request as _};\n";
        for s in &p.services {
            out += &service(g, frame, &r, &pt, s, sides);
        }
    }
    out
}

fn handshake(g: &Gen, h: &Handshake, pt: &str) -> String {
    let p = g.p;
    let role = |s: &StructDef, attr: &str| -> Option<(String, Type)> {
        s.fields
            .iter()
            .find(|f| f.attrs.iter().any(|a| a == attr))
            .and_then(|f| match &f.kind {
                FieldKind::Value(t) => Some((ident(&f.name), t.clone())),
                _ => None,
            })
    };
    let to_field = |ty: &Type, v: &str| -> String {
        match ty {
            Type::Named(i) => match &p.types[*i] {
                TypeDef::Flags(fl) => format!("{}::from_bits({v} as {})", fl.name, fl.repr.rust()),
                _ => "::std::default::Default::default()".into(),
            },
            t => format!("{v} as {}", g.rust_type(t)),
        }
    };
    // Widens a field to `target` (u32 for versions, u64 for features).
    let from_field = |ty: &Type, v: &str, target: &str| -> String {
        let (int, v) = match ty {
            Type::Named(i) => match &p.types[*i] {
                TypeDef::Flags(fl) => (Some(fl.repr), format!("{v}.bits()")),
                _ => (None, v.to_string()),
            },
            Type::Int(i) => (Some(*i), v.to_string()),
            _ => (None, v.to_string()),
        };
        let tbits = if target == "u32" { 32 } else { 64 };
        match int {
            Some(i) if !i.signed && i.bits() < tbits => format!("{target}::from({v})"),
            Some(i) if !i.signed && i.bits() == tbits => v,
            _ => format!("{v} as {target}"),
        }
    };
    let set = |s: &StructDef, attr: &str, v: &str| -> String {
        role(s, attr).map_or(String::new(), |(f, t)| format!("{f}: {},", to_field(&t, v)))
    };
    let get = |s: &StructDef, attr: &str, var: &str, target: &str| -> String {
        role(s, attr).map_or("0".to_string(), |(f, t)| {
            from_field(&t, &format!("{var}.{f}"), target)
        })
    };
    // `..Default::default()` only when some stored field is not set explicitly.
    let rest = |s: &StructDef, set: usize| -> &'static str {
        if g.stored_fields(s).len() > set {
            "..::std::default::Default::default()"
        } else {
            ""
        }
    };
    let hello = p.struct_def(h.hello);
    let accept = p.struct_def(h.accept);
    let (reject_ty, reject, rejected) = match h.reject {
        Some(ri) => {
            let rej = p.struct_def(ri);
            let reason = rej
                .fields
                .iter()
                .find(|f| matches!(&f.kind, FieldKind::Value(Type::String { .. })))
                .map_or(String::new(), |f| {
                    format!(
                        "{}: {P}::Str::from_static(\"no common version\"),",
                        ident(&f.name)
                    )
                });
            let set_count = [
                set(rej, "min_version", "x"),
                set(rej, "max_version", "x"),
                reason.clone(),
            ]
            .iter()
            .filter(|x| !x.is_empty())
            .count();
            (
                rej.name.clone(),
                format!(
                    "::std::option::Option::Some({r} {{ {smin} {smax} {reason} {rest} }})",
                    r = rej.name,
                    smin = set(rej, "min_version", "ours.0"),
                    smax = set(rej, "max_version", "ours.1"),
                    rest = rest(rej, set_count),
                ),
                format!(
                    "({}, {})",
                    get(rej, "min_version", "m", "u32"),
                    get(rej, "max_version", "m", "u32")
                ),
            )
        }
        None => (
            format!("{P}::NoReject"),
            "::std::option::Option::None".to_string(),
            "match *m {}".to_string(),
        ),
    };
    let used = |s: &StructDef, attr: &str, name: &str| {
        if role(s, attr).is_some() {
            name.to_string()
        } else {
            format!("_{name}")
        }
    };
    // A reject without version fields leaves `ours` / `m` unused.
    let ours = if reject.contains("ours") {
        "ours"
    } else {
        "_ours"
    };
    let m_rej = if rejected.contains("m.") || rejected.starts_with("match") {
        "m"
    } else {
        "_m"
    };
    format!(
        "impl {P}::VersionHandshake for {pt} {{
            type Hello = {hello};
            type Accept = {accept};
            type Reject = {reject_ty};
            const VERSIONS: (u32, u32) = protocol_info::VERSIONS;
            const LIMITS: {P}::Limits = protocol_info::LIMITS;
            const HIGHEST: bool = {highest};
            const REJECTS: bool = {rejects};
            fn hello({pmin}: u32, {pmax}: u32, {pfeat}: u64) -> {hello} {{
                {hello} {{ {hmin} {hmax} {hfeat} {hrest} }}
            }}
            fn offer({ph}: &{hello}) -> (u32, u32, u64) {{
                ({gmin}, {gmax}, {gfeat})
            }}
            fn accept({pver}: u32, {pafeat}: u64) -> {accept} {{
                {accept} {{ {aset_ver} {aset_feat} {arest} }}
            }}
            fn accepted({pa}: &{accept}) -> {P}::Negotiated {{
                {P}::Negotiated {{ version: {aver}, features: {afeat} }}
            }}
            fn reject({ours}: (u32, u32)) -> ::std::option::Option<{reject_ty}> {{
                {reject}
            }}
            fn rejected({m_rej}: &{reject_ty}) -> (u32, u32) {{
                {rejected}
            }}
        }}\n",
        hello = hello.name,
        accept = accept.name,
        highest = h.choose == "highest",
        rejects = h.reject.is_some(),
        // A message without a role's field leaves that parameter unused.
        pmin = used(hello, "min_version", "min"),
        pmax = used(hello, "max_version", "max"),
        pfeat = used(hello, "features", "features"),
        ph = if ["min_version", "max_version", "features"]
            .iter()
            .any(|a| role(hello, a).is_some())
        {
            "h"
        } else {
            "_h"
        },
        pver = used(accept, "version", "version"),
        pafeat = used(accept, "features", "features"),
        pa = if ["version", "features"]
            .iter()
            .any(|a| role(accept, a).is_some())
        {
            "m"
        } else {
            "_m"
        },
        hmin = set(hello, "min_version", "min"),
        hmax = set(hello, "max_version", "max"),
        hfeat = set(hello, "features", "features"),
        aver = get(accept, "version", "m", "u32"),
        afeat = get(accept, "features", "m", "u64"),
        gmin = get(hello, "min_version", "h", "u32"),
        gmax = get(hello, "max_version", "h", "u32"),
        gfeat = get(hello, "features", "h", "u64"),
        hrest = rest(
            hello,
            ["min_version", "max_version", "features"]
                .iter()
                .filter(|a| role(hello, a).is_some())
                .count()
        ),
        arest = rest(
            accept,
            ["version", "features"]
                .iter()
                .filter(|a| role(accept, a).is_some())
                .count()
        ),
        aset_ver = set(accept, "version", "version"),
        aset_feat = set(accept, "features", "features"),
    )
}

/// `to_fields` / `from_fields` for a header struct carried in a string map.
fn header_fields(g: &Gen, s: &StructDef) -> String {
    let p = g.p;
    let mut to = String::new();
    let mut from = String::new();
    let mut names = Vec::new();
    for f in &s.fields {
        let FieldKind::Value(ty) = &f.kind else {
            continue;
        };
        let id = ident(&f.name);
        let key = lit(&f.name);
        names.push(id.clone());
        let (inner, optional) = match ty {
            Type::Optional { inner, .. } => (&**inner, true),
            t => (t, false),
        };
        let to_str = |v: &str| -> String {
            match inner {
                Type::String { .. } => format!("{v}.clone()"),
                Type::Named(i) => match &p.types[*i] {
                    TypeDef::Enum(_) => format!("{P}::Str::from({v}.to_repr().to_string())"),
                    _ => format!("{P}::Str::from({v}.bits().to_string())"),
                },
                _ => format!("{P}::Str::from({v}.to_string())"),
            }
        };
        let parse = |v: &str| -> String {
            match inner {
                Type::String { .. } => format!("{v}.clone()"),
                Type::Bool => format!("{P}::parse_bool_field({v}, {key})?"),
                Type::Named(i) => match &p.types[*i] {
                    TypeDef::Enum(e) if e.open => {
                        format!("{}::from_repr({P}::parse_field({v}, {key})?)", e.name)
                    }
                    TypeDef::Enum(e) => format!(
                        "{n}::from_repr({P}::parse_field({v}, {key})?).ok_or_else(|| {P}::DecodeError::new(0, {key}, {P}::DecodeErrorKind::InvalidField({v}.to_string())))?",
                        n = e.name
                    ),
                    TypeDef::Flags(fl) => {
                        format!("{}::from_bits({P}::parse_field({v}, {key})?)", fl.name)
                    }
                    TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                        "::std::default::Default::default()".into()
                    }
                },
                _ => format!("{P}::parse_field({v}, {key})?"),
            }
        };
        // `map.get(key)` then this, giving an Option: lenient like Java's reflective decoder.
        let parse_opt = |_v: &str| -> String {
            match inner {
                Type::String { .. } => "cloned()".into(),
                Type::Bool => {
                    format!("map(|v| {P}::parse_bool_field(v, {key}).unwrap_or_default())")
                }
                Type::Named(i) => match &p.types[*i] {
                    TypeDef::Enum(e) if e.open => {
                        format!("and_then(|v| v.parse().ok()).map({}::from_repr)", e.name)
                    }
                    TypeDef::Enum(e) => format!(
                        "and_then(|v| v.parse().ok()).and_then({}::from_repr)",
                        e.name
                    ),
                    TypeDef::Flags(fl) => {
                        format!("and_then(|v| v.parse().ok()).map({}::from_bits)", fl.name)
                    }
                    TypeDef::Struct(_) | TypeDef::Union(_) | TypeDef::Tagged(_) => {
                        "and(::std::option::Option::None)".into()
                    }
                },
                _ => "and_then(|v| v.parse().ok())".into(),
            }
        };
        if optional {
            to += &format!(
                "if let ::std::option::Option::Some(v) = &self.{id} {{ map.insert({P}::Str::from_static({key}), {}); }}",
                to_str("v")
            );
            // As Java does, an optional value that does not parse is left unset.
            from += &format!("let {id} = map.get({key}).{};", parse_opt("v"));
        } else {
            to += &format!(
                "map.insert({P}::Str::from_static({key}), {});",
                to_str(&format!("self.{id}"))
            );
            // A required field: its text, or the error that it is missing.
            let text = format!("{P}::field(map, {key})?");
            let read = parse(&text);
            from += &if read.matches(&text).count() > 1 {
                format!("let {id} = {{ let v = {text}; {} }};", parse("v"))
            } else {
                format!("let {id} = {read};")
            };
        }
    }
    format!(
        "impl {name} {{
            /// Writes the fields as strings into a header map.
            pub fn to_fields(&self, map: &mut {P}::OrderedMap<{P}::Str, {P}::Str>) {{ {to} }}
            /// Reads the fields from a header map; absent optional fields are `None`.
            pub fn from_fields(map: &{P}::OrderedMap<{P}::Str, {P}::Str>) -> {P}::DecodeResult<Self> {{
                {from}
                ::std::result::Result::Ok(Self {{ {names} }})
            }}
        }}\n",
        name = s.name,
        names = names.join(", ")
    )
}

/// What a payload struct is for: a request (with its code and its response's type) or a
/// response.
enum Side<'a> {
    Request { code: &'a str, response: &'a str },
    Response,
}

/// One rpc's request or response type and its `Payload` impl (with `Request` for a
/// request): the struct of its typed parts and where they travel in the frame.
#[allow(clippy::too_many_arguments)]
fn payload(
    g: &Gen,
    frame: &StructDef,
    r: &Roles,
    name: &str,
    doc: &str,
    at: &str,
    pl: &Payload,
    side: Side<'_>,
) -> String {
    let p = g.p;
    let mut fields = String::new();
    let mut take = String::new();
    let mut put = String::new();
    let mut names = Vec::new();
    // Where a carrier field is read from and written to, through `frame: &mut Frame`.
    let carrier = |c: &str| -> (String, String) {
        let found = find_marked(p, frame, &|f: &Field| f.name == c);
        let (path, optional) = match &found {
            Some((path, ty)) => (path.clone(), matches!(ty, Type::Optional { .. })),
            None => (ident(c), false),
        };
        if optional {
            (
                format!("&frame.{path}.clone().unwrap_or_default()"),
                format!("frame.{path}.get_or_insert_with(::std::default::Default::default)"),
            )
        } else {
            (format!("&frame.{path}"), format!("&mut frame.{path}"))
        }
    };
    if let Some(h) = &pl.header {
        let ty = p.types[h.ty].name();
        fields += &format!("/// The typed header.\n pub header: {ty},");
        let (read, write) = carrier(&h.carrier);
        take += &format!("let header = {ty}::from_fields({read})?;");
        put += &format!("self.header.to_fields({write});");
        names.push("header".to_string());
    }
    if let Some(b) = &pl.body {
        let body = r.body.clone().unwrap_or_else(|| "body".into());
        match &b.ty {
            Type::Bytes { .. } => {
                fields += &format!("/// The body.\n pub body: {P}::Bytes,");
                take += &format!("let body = ::std::mem::take(&mut frame.{body});");
                put += &format!("frame.{body} = self.body;");
            }
            Type::Named(i) => {
                let ty = p.types[*i].name();
                fields += &format!("/// The body.\n pub body: {ty},");
                let (dec, enc) = if b.encoding == "binary" {
                    (
                        format!(
                            "{{ let v = <{ty} as {P}::WireMessage>::decode_from(&mut r)?; r.finish(\"body\")?; v }}"
                        ),
                        format!("{P}::WireMessage::encode_to(&self.body, &mut out)?;"),
                    )
                } else {
                    (
                        format!("{ty}::decode_{e}(&mut r)?", e = b.encoding),
                        format!("self.body.encode_{e}(&mut out)?;", e = b.encoding),
                    )
                };
                take += &format!(
                    "let body = {{ let mut r = {P}::Reader::new(&frame.{body}, protocol_info::LIMITS); {dec} }};"
                );
                put += &format!(
                    "{{ let mut out = {P}::BytesMut::new(); {enc} frame.{body} = out.freeze(); }}"
                );
            }
            other => {
                fields += &format!("/// The body.\n pub body: {},", g.rust_type(other));
                take += "let body = ::std::default::Default::default();";
            }
        }
        names.push("body".to_string());
    }
    // A response carries the success status.
    if matches!(side, Side::Response) && r.code.is_some() {
        put = format!(
            "{P}::RemotingFrame::set_code(frame, {}::SUCCESS); {put}",
            protocol_type(p)
        );
    }
    let param = if take.is_empty() { "_frame" } else { "frame" };
    let put_param = if put.is_empty() { "_frame" } else { "frame" };
    let request = match side {
        Side::Request { code, response } => format!(
            "impl ::polywire::rt::Request for {name} {{
                type Response = {response};
                const CODE: i64 = {code} as i64;
            }}"
        ),
        Side::Response => String::new(),
    };
    format!(
        "#[doc = {doc}] {at}
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct {name} {{ {fields} }}

        impl ::polywire::rt::Payload for {name} {{
            type Protocol = {pt};
            fn take_from({param}: &mut {fname}) -> {P}::DecodeResult<Self> {{
                {take}
                ::std::result::Result::Ok(Self {{ {names} }})
            }}
            fn put_into(self, {put_param}: &mut {fname}) -> {P}::EncodeResult {{
                {put}
                ::std::result::Result::Ok(())
            }}
        }}
        {request}\n",
        doc = lit(doc),
        pt = protocol_type(p),
        fname = frame.name,
        names = names.join(", "),
    )
}

fn service(
    g: &Gen,
    frame: &StructDef,
    r: &Roles,
    pt: &str,
    s: &Service,
    sides: super::Sides,
) -> String {
    let mut out = String::new();
    let mut trait_methods = String::new();
    let mut now_methods = String::new();
    let mut register = String::new();
    let mut register_now = String::new();
    let mut client = String::new();
    for rpc in &s.rpcs {
        let n = pascal_prefix(&rpc.name);
        let m = ident(&rpc.name);
        let code = format!("request_codes::{}", screaming(&rpc.name));
        let at = g.at_attrs(rpc.span);
        // The `Defined at` line is on the request and response types, not on every method.
        let docs = doc_attrs(&rpc.docs, || {
            format!("`{}` (request code {}).", rpc.name, rpc.code)
        });
        let response = if rpc.oneway {
            "()".to_string()
        } else {
            format!("{n}Response")
        };
        out += &payload(
            g,
            frame,
            r,
            &format!("{n}Request"),
            &format!(" Request of `{}` (code {}).", rpc.name, rpc.code),
            &at,
            &rpc.request,
            Side::Request {
                code: &code,
                response: &response,
            },
        );
        if !rpc.oneway {
            out += &payload(
                g,
                frame,
                r,
                &response,
                &format!(" Response of `{}`.", rpc.name),
                &at,
                &rpc.response,
                Side::Response,
            );
        }
        trait_methods += &format!(
            "{docs} fn {m}(&self, ctx: {P}::RequestContext, request: {n}Request) -> impl ::std::future::Future<Output = ::std::result::Result<{response}, {P}::ProcessError>> + ::std::marker::Send;"
        );
        now_methods += &format!(
            "{docs} fn {m}(&self, ctx: &{P}::RequestContext, request: {n}Request) -> ::std::result::Result<{response}, {P}::ProcessError>;"
        );
        let (oneway, call) = if rpc.oneway {
            ("_oneway", "call_oneway")
        } else {
            ("", "call")
        };
        register += &format!(
            "server.handle{oneway}(&service, |s, ctx, r| async move {{ s.{m}(ctx, r).await }});"
        );
        register_now += &format!("server.handle{oneway}_now(&service, S::{m});");
        client += &format!(
            "{docs} pub async fn {m}(&self, request: {n}Request) -> ::std::result::Result<{response}, {P}::RemotingError> {{
                self.0.{call}(request).await
            }}"
        );
    }
    let sname = pascal(&s.name);
    let base = pascal_prefix(&s.name);
    let docs = doc_attrs(&s.docs, || format!("The `{}` service.", s.name));
    if sides.server {
        out += &format!(
        "{docs}
        #[doc = \"\"]
        #[doc = \" Implement it and serve it with [`serve_{snake}`].\"]
        pub trait {sname}: ::std::marker::Send + ::std::marker::Sync + 'static {{ {trait_methods} }}

        /// Registers every request of the `{sname}` service on `server`.
        pub fn serve_{snake}<S: {sname}>(server: &::polywire::rt::RemotingServer<{pt}>, service: ::std::sync::Arc<S>) {{ {register} }}

        /// The `{sname}` service for handlers that answer at once: each method returns its
        /// response instead of a future, so a request costs no allocation and no task.
        /// Serve it with [`serve_{snake}_now`]; handlers that wait on something implement
        /// [`{sname}`] instead.
        pub trait {base}Now: ::std::marker::Send + ::std::marker::Sync + 'static {{ {now_methods} }}

        /// Registers every request of the `{base}Now` service on `server`.
        pub fn serve_{snake}_now<S: {base}Now>(server: &::polywire::rt::RemotingServer<{pt}>, service: ::std::sync::Arc<S>) {{ {register_now} }}\n",
            snake = super::rust::snake(&s.name)
        );
    }
    if sides.client {
        out += &format!(
        "/// Typed client of the `{sname}` service, bound to one address: a
        /// [`ServiceClient`](::polywire::rt::ServiceClient) (its pipeline, address and
        /// timeout) with a method per request.
        #[derive(Clone)]
        pub struct {base}Client(pub ::polywire::rt::ServiceClient<{pt}>);

        impl {base}Client {{
            /// A client for the service at `addr`, with a 3 s timeout per call.
            pub fn new(client: ::polywire::rt::RemotingClient<{pt}>, addr: impl ::std::convert::Into<::std::sync::Arc<str>>) -> Self {{
                Self(::polywire::rt::ServiceClient::new(client, addr))
            }}
            /// Sets the timeout of each call.
            pub fn with_timeout(self, timeout: ::std::time::Duration) -> Self {{
                Self(self.0.with_timeout(timeout))
            }}
            {client}
        }}

        impl ::std::ops::Deref for {base}Client {{
            type Target = ::polywire::rt::ServiceClient<{pt}>;
            fn deref(&self) -> &Self::Target {{
                &self.0
            }}
        }}\n"
        );
    }
    out
}

/// `#[doc]` attributes for `lines`, or for the one line `default()` gives when there are none.
fn doc_attrs(lines: &[String], default: impl FnOnce() -> String) -> String {
    let fallback;
    let lines = if lines.is_empty() {
        fallback = [default()];
        &fallback[..]
    } else {
        lines
    };
    lines
        .iter()
        .map(|d| format!("#[doc = {}]", lit(&format!(" {d}"))))
        .collect()
}
