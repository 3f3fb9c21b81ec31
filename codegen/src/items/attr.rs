//! `#[wire(..)]` attributes: parsed into plain structs with the span of every key, so that
//! lowering can point at the attribute that is wrong. Unknown and repeated keys are errors
//! here, with the keys allowed in that place as help (serde's `attr.rs`).

use crate::ir::LenTarget;
use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, ExprRange, Ident, LitInt, LitStr, RangeLimits, Token};

/// A value and the span of the attribute key that gave it.
pub type At<T> = Option<(T, Span)>;

/// What `#[wire(..)]` says about a type: its width, byte order, prefixes, and the same for
/// its elements, keys and values.
#[derive(Default, Clone)]
pub struct TypeSpec {
    /// `be` / `le`.
    pub little: At<bool>,
    /// `varint`.
    pub varint: At<()>,
    /// `repr = u24`: the width on the wire when it differs from the Rust type's.
    pub repr: At<String>,
    /// `prefix = u16`: the length prefix of a string or bytes.
    pub prefix: At<String>,
    /// `max = 1024`: the longest string or bytes, or the largest value of a `varint`.
    pub max: At<u64>,
    /// `count = u8`: the count prefix of a list or map.
    pub count: At<String>,
    /// `elem(..)`, `key(..)`, `value(..)`.
    pub elem: Option<Box<TypeSpec>>,
    /// Key spec.
    pub key: Option<Box<TypeSpec>>,
    /// Value spec.
    pub value: Option<Box<TypeSpec>>,
}

/// Every key a field may carry.
#[derive(Default)]
pub struct FieldAttrs {
    /// The type part.
    pub spec: TypeSpec,
    /// `correlation`, `kind`, `code`, `message`, `empty_is_none`, `min_version`,
    /// `max_version`, `version`, `features`, `echo`.
    pub markers: Vec<(String, Span)>,
    /// `default = 479`.
    pub default: At<i128>,
    /// `constant = 0x5057`.
    pub constant: At<i128>,
    /// `len = ".."`, `len = "field"`, `len = "field.."`.
    pub len: At<LenTarget>,
    /// `rest`.
    pub rest: At<()>,
    /// `sized_by = field` or `sized_by = u32`.
    pub sized_by: At<String>,
    /// `bits = 24..32`, with the range's own span.
    pub bits: At<(u32, u32)>,
    /// The tokens of the `bits` range, for errors about the part.
    pub bits_tokens: proc_macro2::TokenStream,
    /// `packed = u32`: starts a group of bit parts in one integer.
    pub packed: At<String>,
    /// `carrier = word`: the packed integer's name.
    pub carrier: At<String>,
    /// `by(disc, 0 => json, 1 => binary)`.
    pub by: At<(String, Vec<(i128, String)>)>,
    /// `rename = "x"`: the name in the struct's JSON encoding.
    pub rename: At<String>,
    /// `as_name`: an enum written by name in JSON.
    pub as_name: At<()>,
    /// `if = "qos > 0"`: the condition text and its literal's span (the value is an
    /// `Option`, present when the condition holds).
    pub cond: At<(String, Span)>,
    /// `tag = 0x26`: the member's tag in a `tagged` struct.
    pub tag: At<u64>,
    /// `present = "x"`: a bit part that is 1 when the optional field `x` is there.
    pub present: At<String>,
    /// `literal = "\r\n"`: a field of type `()` standing for these bytes.
    pub literal: At<Vec<u8>>,
    /// `until = "\r\n"`: the field reaches up to these bytes, which end it.
    pub until: At<Vec<u8>>,
    /// `decimal`: an integer (a value or a length) written as ASCII decimal.
    pub decimal: At<()>,
    /// `else = -1` beside `len = "x"`: the length written when the conditional `x` is
    /// absent.
    pub len_else: At<i128>,
}

/// Keys of an item (struct or enum) or of the protocol attribute's nested lists.
#[derive(Default)]
pub struct ItemAttrs {
    /// Bare flags: `frame`, `header`, `hello`, `accept`, `reject`, `open`, `flags`,
    /// `responses`, `union`, `be`, `le`.
    pub flags: Vec<(String, Span)>,
    /// `tagged = u8` or `tagged = "varint<max = 268435455>"`: a tagged list and how its
    /// tags are written.
    pub tagged: At<String>,
    /// `json(..)`.
    pub json: Option<JsonAttrs>,
}

/// `json(rename_all = "camelCase", sort_keys, omit_none, constant(key = "value"))`.
pub struct JsonAttrs {
    /// `rename_all`.
    pub rename_all: At<String>,
    /// `sort_keys`, `omit_none`.
    pub flags: Vec<String>,
    /// `constant(key = "JSON")`: JSON value text.
    pub constants: Vec<(String, String)>,
    /// Where `json` was written.
    pub span: Span,
}

/// Keys of an enum variant.
#[derive(Default)]
pub struct VariantAttrs {
    /// `success`, `not_supported`, `system_error`, `busy`, `response`, `oneway`.
    pub markers: Vec<String>,
    /// `not_supported = "text"`: the message of a status the runtime answers with.
    pub message: Option<String>,
    /// `rename = "NAME"`.
    pub rename: At<String>,
}

/// Keys of a service method or parameter.
#[derive(Default)]
pub struct RpcAttrs {
    /// `code = 1`.
    pub code: At<i128>,
    /// `oneway`.
    pub oneway: At<()>,
    /// `carrier = headers` (request and response headers).
    pub carrier: At<String>,
    /// `response_carrier = headers`.
    pub response_carrier: At<String>,
    /// `encoding = json` (parameter) / `response_encoding = json` (method).
    pub encoding: At<String>,
    /// See above.
    pub response_encoding: At<String>,
}

/// Field markers: `#[wire(correlation)]` etc., the same list as the `.wire` language's.
pub use crate::ir::FIELD_MARKERS;

const TYPE_KEYS: &[&str] = &[
    "be", "le", "varint", "repr", "prefix", "max", "count", "elem", "key", "value",
];

const FIELD_KEYS: &[&str] = &[
    "default", "constant", "len", "rest", "sized_by", "bits", "packed", "carrier", "by", "rename",
    "as_name", "if", "tag", "present", "literal", "until", "decimal", "else",
];

/// Item keys.
pub const ITEM_FLAGS: &[&str] = &[
    "frame",
    "header",
    "hello",
    "accept",
    "reject",
    "open",
    "flags",
    "responses",
    "union",
    "be",
    "le",
];

const VARIANT_KEYS: &[&str] = &[
    "success",
    "not_supported",
    "system_error",
    "busy",
    "response",
    "oneway",
    "rename",
];

const RPC_KEYS: &[&str] = &[
    "code",
    "oneway",
    "carrier",
    "response_carrier",
    "encoding",
    "response_encoding",
];

fn key(meta: &ParseNestedMeta) -> String {
    let path = &meta.path;
    path.get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| quote::quote!(#path).to_string().replace(' ', ""))
}

/// The "unknown key" error: did you mean, else the keys allowed here.
fn unknown(meta: &ParseNestedMeta, name: &str, place: &str, known: &[&[&str]]) -> syn::Error {
    let all: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
    let hint = match crate::util::closest(name, all.iter().map(|s| s.to_string())) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("known here: {}", all.join(", ")),
    };
    meta.error(format!(
        "unknown wire attribute `{name}` on {place}\n\nhelp: {hint}"
    ))
}

fn set<T>(slot: &mut At<T>, v: T, meta: &ParseNestedMeta, name: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{name}` is given twice")));
    }
    *slot = Some((v, meta.path.span()));
    Ok(())
}

fn ident_value(meta: &ParseNestedMeta) -> syn::Result<String> {
    let v = meta.value()?;
    if v.peek(LitStr) {
        return Ok(v.parse::<LitStr>()?.value());
    }
    Ok(v.call(<Ident as syn::ext::IdentExt>::parse_any)?
        .to_string())
}

fn int_value<T: std::str::FromStr>(meta: &ParseNestedMeta) -> syn::Result<T>
where
    T::Err: std::fmt::Display,
{
    let v = meta.value()?;
    // `b'+'`: a byte's value, as `'+'` in the DSL.
    if v.peek(syn::LitByte) {
        let b: syn::LitByte = v.parse()?;
        return b
            .value()
            .to_string()
            .parse::<T>()
            .map_err(|e| syn::Error::new(b.span(), e));
    }
    let neg = v.peek(Token![-]);
    if neg {
        v.parse::<Token![-]>()?;
    }
    let lit: LitInt = v.parse()?;
    let text = if neg {
        format!("-{}", lit.base10_digits())
    } else {
        lit.base10_digits().to_string()
    };
    text.parse::<T>()
        .map_err(|e| syn::Error::new(lit.span(), e))
}

/// One key of a [`TypeSpec`]; `Ok(false)` when `name` is not a type key.
fn type_key(meta: &ParseNestedMeta, name: &str, spec: &mut TypeSpec) -> syn::Result<bool> {
    match name {
        "be" | "le" => set(&mut spec.little, name == "le", meta, "be/le")?,
        "varint" => set(&mut spec.varint, (), meta, name)?,
        "repr" => set(&mut spec.repr, ident_value(meta)?, meta, name)?,
        "prefix" => set(&mut spec.prefix, ident_value(meta)?, meta, name)?,
        "count" => set(&mut spec.count, ident_value(meta)?, meta, name)?,
        "max" => set(&mut spec.max, int_value(meta)?, meta, name)?,
        "elem" | "key" | "value" => {
            let mut sub = TypeSpec::default();
            meta.parse_nested_meta(|m| {
                let n = key(&m);
                if type_key(&m, &n, &mut sub)? {
                    Ok(())
                } else {
                    Err(unknown(&m, &n, &format!("`{name}(..)`"), &[TYPE_KEYS]))
                }
            })?;
            let slot = match name {
                "elem" => &mut spec.elem,
                "key" => &mut spec.key,
                _ => &mut spec.value,
            };
            if slot.is_some() {
                return Err(meta.error(format!("`{name}` is given twice")));
            }
            *slot = Some(Box::new(sub));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn is_wire(a: &Attribute) -> bool {
    a.path().is_ident("wire")
}

/// The `///` text of a list of attributes, as the DSL keeps it.
pub fn docs(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|d| d.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| {
            let t = l.strip_prefix(' ').unwrap_or(&l);
            t.trim_end().to_string()
        })
        .collect()
}

/// Reads the `#[wire(..)]` attributes of a field.
pub fn field(attrs: &[Attribute]) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for a in attrs.iter().filter(|a| is_wire(a)) {
        a.parse_nested_meta(|meta| {
            let name = key(&meta);
            if type_key(&meta, &name, &mut out.spec)? {
                return Ok(());
            }
            match name.as_str() {
                m if FIELD_MARKERS.contains(&m) => {
                    if out.markers.iter().any(|(x, _)| x == m) {
                        return Err(meta.error(format!("`{m}` is given twice")));
                    }
                    out.markers.push((m.to_string(), meta.path.span()));
                }
                "default" => set(&mut out.default, int_value(&meta)?, &meta, &name)?,
                "constant" => set(&mut out.constant, int_value(&meta)?, &meta, &name)?,
                "len" => {
                    let s: LitStr = meta.value()?.parse()?;
                    let v = s.value();
                    let target = if v == ".." {
                        LenTarget::From(None)
                    } else if let Some(f) = v.strip_suffix("..") {
                        LenTarget::From(Some(f.to_string()))
                    } else {
                        LenTarget::Field(v)
                    };
                    set(&mut out.len, target, &meta, &name)?;
                }
                "rest" => set(&mut out.rest, (), &meta, &name)?,
                "sized_by" => set(&mut out.sized_by, ident_value(&meta)?, &meta, &name)?,
                "bits" => {
                    let r: ExprRange = meta.value()?.parse()?;
                    let bound = |e: &Option<Box<Expr>>| -> syn::Result<u32> {
                        match e.as_deref() {
                            Some(Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Int(i),
                                ..
                            })) => i.base10_parse(),
                            _ => Err(syn::Error::new_spanned(
                                &r,
                                "`bits` takes a range of bit numbers, e.g. `bits = 24..32`",
                            )),
                        }
                    };
                    let lo = bound(&r.start)?;
                    let mut hi = bound(&r.end)?;
                    if matches!(r.limits, RangeLimits::Closed(_)) {
                        hi += 1;
                    }
                    if out.bits.is_some() {
                        return Err(meta.error("`bits` is given twice"));
                    }
                    out.bits = Some(((lo, hi), r.span()));
                    out.bits_tokens = quote::ToTokens::to_token_stream(&r);
                }
                "packed" => set(&mut out.packed, ident_value(&meta)?, &meta, &name)?,
                "carrier" => set(&mut out.carrier, ident_value(&meta)?, &meta, &name)?,
                "by" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let by = parse_by(&content)?;
                    set(&mut out.by, by, &meta, &name)?;
                }
                "rename" => {
                    let s: LitStr = meta.value()?.parse()?;
                    set(&mut out.rename, s.value(), &meta, &name)?;
                }
                "as_name" => set(&mut out.as_name, (), &meta, &name)?,
                "if" => {
                    let s: LitStr = meta.value()?.parse()?;
                    set(&mut out.cond, (s.value(), s.span()), &meta, &name)?;
                }
                "tag" => set(&mut out.tag, int_value(&meta)?, &meta, &name)?,
                "present" => set(&mut out.present, ident_value(&meta)?, &meta, &name)?,
                "literal" => set(&mut out.literal, bytes_value(&meta)?, &meta, &name)?,
                "until" => set(&mut out.until, bytes_value(&meta)?, &meta, &name)?,
                "decimal" => set(&mut out.decimal, (), &meta, &name)?,
                "else" => set(&mut out.len_else, int_value(&meta)?, &meta, &name)?,
                _ => {
                    return Err(unknown(
                        &meta,
                        &name,
                        "a field",
                        &[TYPE_KEYS, FIELD_KEYS, FIELD_MARKERS],
                    ));
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// The bytes of `= "\r\n"` or `= b"\r\n"`.
fn bytes_value(meta: &ParseNestedMeta) -> syn::Result<Vec<u8>> {
    let v = meta.value()?;
    if v.peek(syn::LitByteStr) {
        return Ok(v.parse::<syn::LitByteStr>()?.value());
    }
    Ok(v.parse::<LitStr>()?.value().into_bytes())
}

/// `disc, 0 => json, 1 => binary`.
fn parse_by(input: ParseStream) -> syn::Result<(String, Vec<(i128, String)>)> {
    let disc: Ident = input.parse()?;
    let mut arms = Vec::new();
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let v: LitInt = input.parse()?;
        input.parse::<Token![=>]>()?;
        let enc: Ident = input.parse()?;
        arms.push((v.base10_parse()?, enc.to_string()));
    }
    Ok((disc.to_string(), arms))
}

/// Reads the `#[wire(..)]` attributes of a struct or enum.
pub fn item(attrs: &[Attribute]) -> syn::Result<ItemAttrs> {
    let mut out = ItemAttrs::default();
    for a in attrs.iter().filter(|a| is_wire(a)) {
        a.parse_nested_meta(|meta| {
            let name = key(&meta);
            if ITEM_FLAGS.contains(&name.as_str()) {
                if out.flags.iter().any(|(x, _)| *x == name) {
                    return Err(meta.error(format!("`{name}` is given twice")));
                }
                out.flags.push((name, meta.path.span()));
                return Ok(());
            }
            if name == "tagged" {
                return set(&mut out.tagged, ident_value(&meta)?, &meta, &name);
            }
            if name != "json" {
                return Err(unknown(
                    &meta,
                    &name,
                    "a type",
                    &[ITEM_FLAGS, &["json", "tagged"]],
                ));
            }
            let mut j = JsonAttrs {
                rename_all: None,
                flags: Vec::new(),
                constants: Vec::new(),
                span: meta.path.span(),
            };
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                meta.parse_nested_meta(|m| {
                    let n = key(&m);
                    match n.as_str() {
                        "rename_all" => {
                            let s: LitStr = m.value()?.parse()?;
                            set(&mut j.rename_all, s.value(), &m, &n)
                        }
                        "sort_keys" | "omit_none" => {
                            j.flags.push(n);
                            Ok(())
                        }
                        "constant" => m.parse_nested_meta(|c| {
                            let k = key(&c);
                            let v = c.value()?;
                            let json = if v.peek(LitStr) {
                                format!("{:?}", v.parse::<LitStr>()?.value())
                            } else {
                                v.parse::<LitInt>()?.base10_digits().to_string()
                            };
                            j.constants.push((k, json));
                            Ok(())
                        }),
                        _ => Err(unknown(
                            &m,
                            &n,
                            "`json(..)`",
                            &[&["rename_all", "sort_keys", "omit_none", "constant"]],
                        )),
                    }
                })?;
            }
            if out.json.is_some() {
                return Err(meta.error("`json` is given twice"));
            }
            out.json = Some(j);
            Ok(())
        })?;
    }
    Ok(out)
}

/// Reads the `#[wire(..)]` attributes of an enum variant or flag bit.
pub fn variant(attrs: &[Attribute]) -> syn::Result<VariantAttrs> {
    let mut out = VariantAttrs::default();
    for a in attrs.iter().filter(|a| is_wire(a)) {
        a.parse_nested_meta(|meta| {
            let name = key(&meta);
            match name.as_str() {
                "rename" => {
                    let s: LitStr = meta.value()?.parse()?;
                    set(&mut out.rename, s.value(), &meta, &name)
                }
                m if VARIANT_KEYS.contains(&m) => {
                    if meta.input.peek(Token![=]) {
                        let s: LitStr = meta.value()?.parse()?;
                        out.message = Some(s.value());
                    }
                    out.markers.push(m.to_string());
                    Ok(())
                }
                _ => Err(unknown(&meta, &name, "a variant", &[VARIANT_KEYS])),
            }
        })?;
    }
    Ok(out)
}

/// Reads the `#[wire(..)]` attributes of a service method or parameter.
pub fn rpc(attrs: &[Attribute]) -> syn::Result<RpcAttrs> {
    let mut out = RpcAttrs::default();
    for a in attrs.iter().filter(|a| is_wire(a)) {
        a.parse_nested_meta(|meta| {
            let name = key(&meta);
            match name.as_str() {
                "code" => set(&mut out.code, int_value(&meta)?, &meta, &name),
                "oneway" => set(&mut out.oneway, (), &meta, &name),
                "carrier" => set(&mut out.carrier, ident_value(&meta)?, &meta, &name),
                "response_carrier" => {
                    set(&mut out.response_carrier, ident_value(&meta)?, &meta, &name)
                }
                "encoding" => set(&mut out.encoding, ident_value(&meta)?, &meta, &name),
                "response_encoding" => set(
                    &mut out.response_encoding,
                    ident_value(&meta)?,
                    &meta,
                    &name,
                ),
                _ => Err(unknown(&meta, &name, "a request", &[RPC_KEYS])),
            }
        })?;
    }
    Ok(out)
}
