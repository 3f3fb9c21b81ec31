//! `exchange { .. }` blocks at run time: [`DynExchange`] implements the core's
//! [`Exchange`] over [`Value`] frames, read from the IR as the emitter writes the generated
//! `impl Exchange` (`polywire_codegen::emit::exchange`), so that the runtime's
//! `MessageServer` and `MessageClient` serve and call a protocol loaded from its `.wire`
//! file while the program runs.
//!
//! A frame is a [`Value::Union`] naming the frame union's member (and, for a union of the
//! two directions, a second `Value::Union` naming the direction's member). Conditions of
//! answers, farewells and `accept if` read the message's stored fields (not computed
//! lengths) and `@version`.
//!
//! `status` lines read and set the answer's status field and message; `complete` fills
//! the optional fields a layout needs under a version with their defaults, in the
//! message and the structs it holds, as the generated `complete_*` functions do.

use crate::decode::{Dec, Locals};
use crate::{DynCodec, Schema, SchemaError, Value, intern};
use bytes::Bytes;
use polywire_codegen::ir::{
    self, Cond, FieldKind, Matching, Protocol, Reply, SetValue, Type, TypeDef,
};
use polywire_core::exchange::{Exchange, Expect, Failure, Status};
use polywire_core::protocol::{Detection, Detector, detect_any};
use polywire_core::wire::Sender;
use polywire_core::{DecodeError, SessionCodec};
use std::sync::Arc;
use std::time::Duration;

/// A protocol's `exchange` block loaded at run time: cheap to clone (one `Arc`), and
/// what a `MessageServer<DynExchange, H>` serves.
#[derive(Debug, Clone)]
pub struct DynExchange(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    schema: Arc<Schema>,
    codec: DynCodec,
    id: &'static str,
    detect: Option<DetectRules>,
    /// The frame union's members' names, by member index.
    members: Vec<&'static str>,
    /// Their type indexes.
    types: Vec<usize>,
    senders: Vec<Option<Sender>>,
    hello: Option<usize>,
    /// The correlation field, when some member holds it.
    correlate: Option<String>,
    max_correlation: u64,
    grace_permille: u32,
    versions: Option<(u32, u32)>,
    /// The rules, the more specific patterns first (as the emitter orders them).
    rules: Vec<ir::Rule>,
    has_rule: Vec<bool>,
    pushable: Vec<bool>,
    unawaited: Vec<bool>,
    /// Pushes named by a member of one direction's union: `(outer, inner)` names.
    out_of_band: Vec<(&'static str, &'static str)>,
    /// Each member with every field at its default, wrapped as a frame.
    blanks: Vec<Value>,
}

/// The protocol's `detect` rules.
#[derive(Debug)]
struct DetectRules(Vec<Vec<(usize, Vec<u8>)>>);

impl Detector for DetectRules {
    fn detect(&self, first: &[u8]) -> Detection {
        detect_any(
            self.0
                .iter()
                .map(|set| set.iter().map(|(at, b)| (*at, &b[..]))),
            first,
        )
    }
}

impl DynExchange {
    /// Loads the `.wire` file at `path` and reads its `exchange` block.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<DynExchange, SchemaError> {
        DynExchange::new(&Schema::load(path)?)
    }

    /// The exchange of `schema`, which must have a union frame and an `exchange` block.
    pub fn new(schema: &Schema) -> Result<DynExchange, SchemaError> {
        let p = schema.ir();
        let err = |m: &str| SchemaError(format!("protocol `{}`: {m}", p.name));
        let ex = p
            .exchange
            .as_ref()
            .ok_or_else(|| err("it has no exchange block"))?;
        let u = match p.frame.map(|f| &p.types[f]) {
            Some(TypeDef::Union(u)) => u,
            _ => return Err(err("its frame is not a union")),
        };
        let member = |ty: usize| u.arms.iter().position(|a| a.ty == ty).unwrap_or(0);
        let top = |ty: usize| p.frame_path(ty).map_or(ty, |path| path[0]);
        let n = u.arms.len();
        let mut blanks = Vec::with_capacity(n);
        for a in &u.arms {
            let v = default_of(schema, a.ty)
                .map_err(|e| err(&format!("{} has no default: {e}", p.types[a.ty].name())))?;
            blanks.push(Value::Union {
                member: intern(p.types[a.ty].name()),
                value: Box::new(v),
            });
        }
        let all_rules = || ex.hello.iter().chain(ex.rules.iter());
        let mut rules: Vec<ir::Rule> = all_rules().cloned().collect();
        rules.sort_by_key(|r| {
            p.frame_path(r.on)
                .map_or(1, |path| usize::from(path.len() < 2))
        });
        let flags = |ms: Vec<usize>| {
            let mut v = vec![false; n];
            for m in ms {
                v[m] = true;
            }
            v
        };
        let unawaited = all_rules()
            .flat_map(|r| &r.answers)
            .filter_map(|a| match a.reply {
                Reply::Only { msg, .. } => Some(member(msg)),
                _ => None,
            })
            .collect();
        let (correlate, max_correlation) = match &ex.matching {
            Matching::Correlate(field) => {
                let maxes: Vec<u64> = u
                    .arms
                    .iter()
                    .filter_map(|a| match &p.types[a.ty] {
                        TypeDef::Struct(s) => int_field(s, field).map(max_of),
                        _ => None,
                    })
                    .collect();
                match maxes.iter().min() {
                    Some(m) => (Some(field.clone()), *m),
                    None => (None, 0),
                }
            }
            Matching::Order => (None, 0),
        };
        let out_of_band = ex
            .push
            .iter()
            .filter_map(|t| match p.frame_path(*t)?.as_slice() {
                [outer, inner] => Some((
                    intern(p.types[*outer].name()),
                    intern(p.types[*inner].name()),
                )),
                _ => None,
            })
            .collect();
        let inner = Inner {
            codec: DynCodec::new(schema)?,
            schema: Arc::new(schema.clone()),
            id: intern(&p.id),
            detect: (!p.detect.is_empty()).then(|| {
                DetectRules(
                    p.detect
                        .iter()
                        .map(|set| set.iter().map(|r| (r.at, r.bytes.clone())).collect())
                        .collect(),
                )
            }),
            members: u
                .arms
                .iter()
                .map(|a| intern(p.types[a.ty].name()))
                .collect(),
            types: u.arms.iter().map(|a| a.ty).collect(),
            senders: u
                .arms
                .iter()
                .map(|a| {
                    a.from.map(|s| match s {
                        ir::Sender::Client => Sender::Client,
                        ir::Sender::Server => Sender::Server,
                    })
                })
                .collect(),
            hello: ex.hello.as_ref().map(|h| member(h.on)),
            correlate,
            max_correlation,
            grace_permille: ex.keepalive.as_ref().map_or(1000, |k| k.grace_permille),
            versions: p.versions,
            has_rule: flags(all_rules().map(|r| member(top(r.on))).collect()),
            pushable: flags(ex.push.iter().map(|t| member(top(*t))).collect()),
            unawaited: flags(unawaited),
            out_of_band,
            rules,
            blanks,
        };
        Ok(DynExchange(Arc::new(inner)))
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.0.schema
    }

    /// A frame of member `name` of the frame union holding `value` (a direction's member
    /// of a union of the two is named by its own type: `Array` of `Command`).
    pub fn frame(&self, name: &str, value: Value) -> Option<Value> {
        let p = self.ir();
        let ty = self.0.schema.message(name)?;
        let path = p.frame_path(ty)?;
        Some(wrap(p, &path, value))
    }

    fn ir(&self) -> &Protocol {
        self.0.schema.ir()
    }

    /// The struct type a frame holds, and its value: the member's, or the direction's
    /// member's.
    fn innermost<'v>(&self, m: &'v Value) -> Option<(usize, &'v Value)> {
        let p = self.ir();
        let mut v = m;
        let mut name = None;
        while let Value::Union { member, value } = v {
            name = Some(*member);
            v = value;
        }
        let ty = p.types.iter().position(|t| Some(t.name()) == name)?;
        Some((ty, v))
    }

    /// The rule `m` falls under, the more specific pattern first.
    fn rule(&self, m: &Value) -> Option<&ir::Rule> {
        let p = self.ir();
        let names = names(m);
        self.0.rules.iter().find(|r| {
            let path = p.frame_path(r.on).unwrap_or_else(|| vec![r.on]);
            path.iter()
                .zip(&names)
                .all(|(t, n)| p.types[*t].name() == *n)
                && path.len() <= names.len()
        })
    }

    /// Whether `c` holds over the struct `v` of type `ty` under `version`.
    fn holds(&self, ty: usize, v: &Value, c: &Cond, version: u32) -> bool {
        let p = self.ir();
        let TypeDef::Struct(s) = &p.types[ty] else {
            return false;
        };
        let mut l = Locals::default();
        if let Value::Struct { fields, .. } = v {
            for (n, x) in fields {
                l.values.push((*n, x.clone()));
            }
        }
        Dec::new(&self.0.schema)
            .cond(s, c, &l, None, Some((version, false)))
            .unwrap_or(false)
    }

    /// The hello's field marked `@version`.
    fn version_field(&self) -> Option<&str> {
        let p = self.ir();
        let h = p.exchange.as_ref()?.hello.as_ref()?;
        let TypeDef::Struct(s) = &p.types[h.on] else {
            return None;
        };
        s.fields
            .iter()
            .find(|f| {
                matches!(f.kind, FieldKind::Value(_)) && f.attrs.iter().any(|a| a == "version")
            })
            .map(|f| f.name.as_str())
    }

    /// The `status` line of the answer of type `ty`.
    fn status_of(&self, ty: usize) -> Option<&ir::StatusDecl> {
        self.ir()
            .exchange
            .as_ref()?
            .statuses
            .iter()
            .find(|st| st.msg == ty)
    }

    /// Sets the value at `path` (fields of structs and members of tagged lists) in `v`, of
    /// struct type `ty`, to `x`, making what is absent on the way with its defaults.
    fn set_path(&self, ty: usize, v: &mut Value, path: &[String], x: Value) {
        let p = self.ir();
        let Some((name, rest)) = path.split_first() else {
            return;
        };
        let field_ty = match &p.types[ty] {
            TypeDef::Struct(s) => s.fields.iter().find_map(|f| match &f.kind {
                FieldKind::Value(t) if f.name == *name => Some(t),
                _ => None,
            }),
            TypeDef::Tagged(tg) => tg.members.iter().find(|m| m.name == *name).map(|m| &m.ty),
            _ => None,
        };
        let Some(field_ty) = field_ty else {
            return;
        };
        if rest.is_empty() {
            set_field(v, name, x);
            return;
        }
        let Type::Named(next) = field_ty else {
            return;
        };
        let Value::Struct { fields, .. } = v else {
            return;
        };
        let i = match fields.iter().position(|(n, _)| *n == name.as_str()) {
            Some(i) => i,
            None => {
                let Ok(d) = default_of(&self.0.schema, *next) else {
                    return;
                };
                fields.push((intern(name), d));
                fields.len() - 1
            }
        };
        self.set_path(*next, &mut fields[i].1, rest, x);
    }

    /// Fills the optional fields of struct `v` (of type `ty`) that its layout needs under
    /// `version` and that are absent, with their defaults; then those of the structs it
    /// holds.
    fn complete_struct(&self, ty: usize, v: &mut Value, version: u32) {
        let p = self.ir();
        let TypeDef::Struct(s) = &p.types[ty] else {
            return;
        };
        for f in &s.fields {
            let (Some(c), FieldKind::Value(t)) = (&f.cond, &f.kind) else {
                continue;
            };
            if !fillable(s, c) || v.field(&f.name).is_some() || !self.holds(ty, v, c, version) {
                continue;
            }
            let d = match t {
                Type::Named(i) if !matches!(p.types[*i], TypeDef::Struct(_)) => {
                    match default_of(&self.0.schema, *i) {
                        Ok(d) => d,
                        Err(_) => continue,
                    }
                }
                _ => crate::json::default(p, t, s, &f.name),
            };
            if let Value::Struct { fields, .. } = v {
                // In declared order, after the fields declared before it.
                let at = s.fields.iter().position(|x| x.name == f.name).unwrap_or(0);
                let before = |n: &str| s.fields[..at].iter().any(|x| x.name == n);
                let i = fields.iter().take_while(|(n, _)| before(n)).count();
                fields.insert(i, (intern(&f.name), d));
            }
        }
        let Value::Struct { fields, .. } = v else {
            return;
        };
        for (name, x) in fields.iter_mut() {
            let Some(f) = s.fields.iter().find(|f| f.name == *name) else {
                continue;
            };
            let FieldKind::Value(t) = &f.kind else {
                continue;
            };
            self.complete_held(t, x, version);
        }
    }

    /// Completes the structs a field of type `t` holds (directly, optionally or as list
    /// elements).
    fn complete_held(&self, t: &Type, x: &mut Value, version: u32) {
        match (t, x) {
            (Type::Named(i), x) if matches!(self.ir().types[*i], TypeDef::Struct(_)) => {
                self.complete_struct(*i, x, version);
            }
            (Type::List { elem, .. }, Value::List(items)) => {
                for item in items {
                    self.complete_held(elem, item, version);
                }
            }
            (Type::Optional { inner, .. }, x) if *x != Value::Null => {
                self.complete_held(inner, x, version);
            }
            _ => {}
        }
    }

    /// The value of `m`'s top-level integer field `field`, when its struct is the hello.
    fn hello_field(&self, m: &Value, field: &str) -> Option<i128> {
        let hello = self.0.hello?;
        if self.member(m) != hello {
            return None;
        }
        self.innermost(m)?.1.field(field)?.as_int()
    }
}

/// The default value of type `ty`, as generated code's `Default` makes it: a struct's
/// fields at their defaults, a union's first member's default, an empty tagged list.
fn default_of(schema: &Schema, ty: usize) -> Result<Value, crate::JsonError> {
    match &schema.ir().types[ty] {
        TypeDef::Tagged(t) => Ok(Value::Struct {
            ty: intern(&t.name),
            fields: Vec::new(),
        }),
        TypeDef::Union(u) if !u.arms.is_empty() => {
            let first = u.arms[0].ty;
            Ok(Value::Union {
                member: intern(schema.ir().types[first].name()),
                value: Box::new(default_of(schema, first)?),
            })
        }
        _ => schema.value_from_json(ty, &serde_json::json!({})),
    }
}

/// The struct inside a frame's unions.
fn innermost_mut(m: &mut Value) -> &mut Value {
    match m {
        Value::Union { value, .. } => innermost_mut(value),
        other => other,
    }
}

/// The member names a frame's unions name, outermost first.
fn names(m: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut v = m;
    while let Value::Union { member, value } = v {
        out.push(*member);
        v = value;
    }
    out
}

/// `value` wrapped in the members of `path` (the frame union's member first).
fn wrap(p: &Protocol, path: &[usize], value: Value) -> Value {
    path.iter().rev().fold(value, |v, t| Value::Union {
        member: intern(p.types[*t].name()),
        value: Box::new(v),
    })
}

/// A top-level integer field named `name` of `s`: its type.
fn int_field<'a>(s: &'a ir::StructDef, name: &str) -> Option<&'a Type> {
    s.fields.iter().find_map(|f| match &f.kind {
        FieldKind::Value(t @ (Type::Int(_) | Type::Varint { .. })) if f.name == name => Some(t),
        _ => None,
    })
}

/// Whether an absent field under condition `c` is filled by `complete`: not when the
/// condition reads `@more`, a presence bit or a computed length (the field's absence is
/// then meant), as the emitter decides.
fn fillable(s: &ir::StructDef, c: &Cond) -> bool {
    let mut open = false;
    c.walk(&mut |c| open |= *c == Cond::More);
    let refs = c.refs();
    let presence = refs.iter().any(|(n, _)| {
        s.fields.iter().any(|x| match &x.kind {
            FieldKind::Bits { parts, .. } => parts
                .iter()
                .any(|p| p.name == *n && matches!(p.value, ir::PartValue::Present(_))),
            _ => false,
        })
    });
    let computed = refs.iter().any(|(n, _)| {
        s.fields
            .iter()
            .any(|x| x.name == *n && matches!(x.kind, FieldKind::Length { .. }))
    });
    !(open || presence || computed)
}

/// The largest value of an integer type.
fn max_of(t: &Type) -> u64 {
    match t {
        Type::Int(i) => i.max_value(),
        Type::Varint { max, .. } => max.unwrap_or(u64::MAX),
        _ => 0,
    }
}

/// Sets field `name` of the struct inside `v` (the frame's innermost value) to `x`.
fn set_field(v: &mut Value, name: &str, x: Value) {
    match v {
        Value::Union { value, .. } => set_field(value, name, x),
        Value::Struct { fields, .. } => match fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = x,
            None => fields.push((intern(name), x)),
        },
        _ => {}
    }
}

impl Exchange for DynExchange {
    type Msg = Value;
    type Codec = DynCodec;

    fn codec(&self) -> DynCodec {
        self.0.codec.clone()
    }

    fn id(&self) -> &'static str {
        self.0.id
    }

    fn detector(&self) -> Option<&dyn Detector> {
        self.0.detect.as_ref().map(|d| d as &dyn Detector)
    }

    fn member_name(&self, member: usize) -> &'static str {
        self.0.members[member]
    }

    fn hello(&self) -> Option<usize> {
        self.0.hello
    }

    fn correlated(&self) -> bool {
        self.0.correlate.is_some()
    }

    fn max_correlation(&self) -> u64 {
        self.0.max_correlation
    }

    fn grace_permille(&self) -> u32 {
        self.0.grace_permille
    }

    fn versions(&self) -> Option<(u32, u32)> {
        self.0.versions
    }

    fn member(&self, m: &Value) -> usize {
        match m {
            Value::Union { member, .. } => {
                self.0.members.iter().position(|n| n == member).unwrap_or(0)
            }
            _ => 0,
        }
    }

    fn sender(&self, member: usize) -> Option<Sender> {
        self.0.senders.get(member).copied().flatten()
    }

    fn expects(&self, m: &Value, version: u32) -> Expect {
        let Some(rule) = self.rule(m) else {
            return Expect::Nothing;
        };
        let member = |ty: usize| self.0.types.iter().position(|t| *t == ty).unwrap_or(0);
        for a in &rule.answers {
            if let Some(c) = &a.cond {
                let holds = self
                    .innermost(m)
                    .is_some_and(|(ty, v)| self.holds(ty, v, c, version));
                if !holds {
                    continue;
                }
            }
            return expect_of(&a.reply, member);
        }
        Expect::Nothing
    }

    fn has_rule(&self, member: usize) -> bool {
        self.0.has_rule.get(member).copied().unwrap_or(false)
    }

    fn pushable(&self, member: usize) -> bool {
        self.0.pushable.get(member).copied().unwrap_or(false)
    }

    fn out_of_band(&self, m: &Value) -> bool {
        let names = names(m);
        self.0
            .out_of_band
            .iter()
            .any(|(o, i)| names.len() >= 2 && names[0] == *o && names[1] == *i)
    }

    fn unawaited(&self, member: usize) -> bool {
        self.0.unawaited.get(member).copied().unwrap_or(false)
    }

    fn correlation(&self, m: &Value) -> Option<u64> {
        let field = self.0.correlate.as_deref()?;
        let (_, v) = self.innermost(m)?;
        v.field(field)?.as_int().and_then(|x| u64::try_from(x).ok())
    }

    fn takes_correlation(&self, m: &Value) -> bool {
        let Some(field) = self.0.correlate.as_deref() else {
            return false;
        };
        let p = self.ir();
        let Some((ty, v)) = self.innermost(m) else {
            return false;
        };
        let TypeDef::Struct(s) = &p.types[ty] else {
            return false;
        };
        match s.fields.iter().find(|f| f.name == field) {
            Some(f) if int_field(s, field).is_some() => match &f.cond {
                Some(c) => self.holds(ty, v, c, 0),
                None => true,
            },
            _ => false,
        }
    }

    fn set_correlation(&self, m: &mut Value, id: u64) {
        if self.takes_correlation(m)
            && let Some(field) = self.0.correlate.as_deref()
        {
            set_field(m, field, Value::Int(i128::from(id)));
        }
    }

    fn hello_version(&self, m: &Value) -> Option<u32> {
        let field = self.version_field()?;
        self.hello_field(m, field)
            .and_then(|v| u32::try_from(v).ok())
    }

    fn keepalive(&self, m: &Value) -> Option<Duration> {
        let k = self.ir().exchange.as_ref()?.keepalive.as_ref()?;
        match self.hello_field(m, &k.field)? {
            0 => None,
            v => Some(Duration::from_millis((v as u64).saturating_mul(k.unit_ms))),
        }
    }

    fn ping(&self) -> Option<Value> {
        let k = self.ir().exchange.as_ref()?.keepalive.as_ref()?;
        let ty = k.ping;
        self.0
            .types
            .iter()
            .position(|t| *t == ty)
            .map(|i| self.0.blanks[i].clone())
    }

    fn farewell(&self, failure: Failure, version: u32, detail: &str) -> Option<Value> {
        let p = self.ir();
        let ex = p.exchange.as_ref()?;
        let f = ex.farewells.iter().find(|f| {
            f.on.keyword() == failure_keyword(failure)
                && f.cond
                    .as_ref()
                    .is_none_or(|c| self.holds(f.msg, &Value::Null, c, version))
        })?;
        let s = p.struct_def(f.msg);
        let mut v = default_of(&self.0.schema, f.msg).ok()?;
        for x in &f.sets {
            let field = s.fields.iter().find(|y| y.name == x.field);
            let value = match (&x.value, field.map(|y| &y.kind)) {
                (SetValue::Variant(name), Some(FieldKind::Value(Type::Named(i)))) => {
                    let TypeDef::Enum(e) = &p.types[*i] else {
                        continue;
                    };
                    let var = e.variants.iter().find(|w| w.name == *name)?;
                    Value::Enum {
                        value: var.value,
                        name: Some(intern(&var.name)),
                    }
                }
                (SetValue::Variant(_), _) => continue,
                (SetValue::Int(n), _) => Value::Int(*n),
                (SetValue::Bool(b), _) => Value::Bool(*b),
                // `{error}` stands for what went wrong.
                (SetValue::Str(t), _) => Value::Str(t.replacen("{error}", detail, 1).into()),
            };
            set_field(&mut v, &x.field, value);
        }
        let path = p.frame_path(f.msg).unwrap_or_else(|| vec![f.msg]);
        Some(wrap(p, &path, v))
    }

    fn accepted(&self, answer: &Value) -> bool {
        let p = self.ir();
        let Some(ex) = p.exchange.as_ref() else {
            return true;
        };
        let (Some(c), Some(h)) = (&ex.accept, &ex.hello) else {
            return true;
        };
        let Some(t) = h.answers.first().and_then(|a| match a.reply {
            Reply::Message(t) | Reply::MessageThenClose(t) => Some(t),
            _ => None,
        }) else {
            return true;
        };
        match self.innermost(answer) {
            Some((ty, v)) if ty == t => self.holds(ty, v, c, 0),
            _ => true,
        }
    }

    fn set_hello_version(&self, hello: &mut Value, version: u32) {
        if let (Some(h), Some(field)) = (self.0.hello, self.version_field())
            && self.member(hello) == h
        {
            let field = field.to_string();
            set_field(hello, &field, Value::Int(i128::from(version)));
        }
    }

    fn failure(&self, answer: &Value) -> Option<Status> {
        let (ty, v) = self.innermost(answer)?;
        let st = self.status_of(ty)?;
        // An absent status field is the success value 0.
        let code = v.field(&st.field).and_then(Value::as_int).unwrap_or(0);
        if (st.ok.0..=st.ok.1).contains(&code) {
            return None;
        }
        let mut at = Some(v);
        for name in &st.message {
            at = at.and_then(|x| x.field(name));
        }
        let message = match at {
            Some(Value::Str(t)) => Some(t.to_string()),
            _ => None,
        };
        Some(Status {
            code: code as i64,
            message,
        })
    }

    fn set_failure(&self, answer: &mut Value, status: &Status) -> bool {
        let Some((ty, _)) = self.innermost(answer) else {
            return false;
        };
        let Some(st) = self.status_of(ty) else {
            return false;
        };
        let p = self.ir();
        let s = p.struct_def(ty);
        let code = match s
            .fields
            .iter()
            .find(|f| f.name == st.field)
            .map(|f| &f.kind)
        {
            Some(FieldKind::Value(Type::Named(i))) => match &p.types[*i] {
                TypeDef::Enum(e) => {
                    let raw = crate::decode::cast(i128::from(status.code), &e.repr);
                    let name = e.variants.iter().find(|w| w.value == raw);
                    if name.is_none() && !e.open {
                        // A closed enum without the value: the field stays as it is.
                        None
                    } else {
                        Some(Value::Enum {
                            value: raw,
                            name: name.map(|w| intern(&w.name)),
                        })
                    }
                }
                _ => None,
            },
            Some(FieldKind::Value(Type::Int(i))) => {
                Some(Value::Int(crate::decode::cast(i128::from(status.code), i)))
            }
            _ => None,
        };
        let inner = innermost_mut(answer);
        if let Some(c) = code {
            set_field(inner, &st.field, c);
        }
        if let Some(msg) = status.message.as_deref() {
            self.set_path(ty, inner, &st.message, Value::Str(msg.into()));
        }
        true
    }

    fn complete(&self, m: &mut Value, version: u32) {
        if let Some((ty, _)) = self.innermost(m) {
            self.complete_struct(ty, innermost_mut(m), version);
        }
    }

    fn blank(&self, member: usize, correlation: Option<u64>) -> Value {
        let mut a = self.0.blanks.get(member).cloned().unwrap_or(Value::Null);
        if let Some(id) = correlation {
            self.set_correlation(&mut a, id);
        }
        a
    }
}

/// The keyword of a failure, as the IR names it.
fn failure_keyword(f: Failure) -> &'static str {
    match f {
        Failure::Malformed => "malformed",
        Failure::Violation => "violation",
        Failure::Keepalive => "keepalive",
        Failure::Shutdown => "shutdown",
    }
}

/// The [`Expect`] of a reply, by member index.
fn expect_of(r: &Reply, member: impl Fn(usize) -> usize) -> Expect {
    match *r {
        Reply::Nothing => Expect::Nothing,
        Reply::Message(t) => Expect::One(member(t)),
        Reply::MessageThenClose(t) => Expect::OneThenClose(member(t)),
        Reply::Close => Expect::Close,
        Reply::Only { msg, failure } => Expect::Only {
            member: member(msg),
            failure,
        },
        Reply::Series { item, end } => Expect::Series {
            item: member(item),
            end: member(end),
        },
    }
}

impl SessionCodec for DynCodec {
    fn set_sender(&mut self, sender: Option<Sender>) {
        self.sender = sender;
    }

    fn self_delimited(&self) -> bool {
        DynCodec::self_delimited(self)
    }

    fn decode_shared(&self, chunk: &Bytes) -> Result<Option<(Value, usize)>, DecodeError> {
        DynCodec::decode_shared(self, chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use polywire_core::Codec;
    use polywire_core::exchange::{Incoming, MessageSession, Role};
    use std::time::Instant;

    fn resp() -> DynExchange {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../protocols/wire/resp.wire");
        DynExchange::load(path).expect("resp.wire loads")
    }

    #[test]
    fn a_session_over_resp_loaded_at_run_time_answers_a_pipeline_in_order() {
        let ex = resp();
        assert_eq!(ex.versions(), Some((2, 3)));
        let now = Instant::now();
        let mut s = MessageSession::new(ex.clone(), Role::Server, now);
        assert_eq!(s.version(), Some(2), "a connection starts in RESP2");
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nECHO\r\n"[..]);
        let mut tokens = Vec::new();
        while let Ok(Some(Incoming::Message { msg, token })) = s.receive(&mut buf, now) {
            assert_eq!(names(&msg), ["Command", "Array"]);
            assert_eq!(token.expect(), Expect::One(1));
            tokens.push(token);
        }
        assert_eq!(tokens.len(), 2);
        let simple = |t: &str| {
            let v = ex.schema().message("SimpleString").unwrap();
            let text = serde_json::json!({ "text": t });
            let v = ex.schema().value_from_json(v, &text).unwrap();
            ex.frame("SimpleString", v).unwrap()
        };
        let second = tokens.pop().unwrap();
        s.answer(second, simple("two"), now).expect("the second");
        assert!(!s.has_output(), "it waits for the first");
        s.answer(tokens.pop().unwrap(), simple("PONG"), now)
            .expect("the first");
        assert_eq!(&s.take_output()[..], b"+PONG\r\n+two\r\n");
    }

    #[test]
    fn bytes_that_are_not_resp_get_the_declared_farewell() {
        let now = Instant::now();
        let mut s = MessageSession::new(resp(), Role::Server, now);
        let mut buf = BytesMut::from(&b"*x\r\n"[..]);
        assert!(s.receive(&mut buf, now).is_err());
        let out = s.take_output();
        assert!(out.starts_with(b"-ERR Protocol error: "), "{out:?}");
        assert!(s.is_closed());
    }

    #[test]
    fn its_codec_reads_what_the_client_sends() {
        let mut c = resp().codec();
        c.set_sender(Some(Sender::Client));
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPING\r\n"[..]);
        let v = c.decode(&mut buf).expect("decodes").expect("whole");
        assert_eq!(names(&v), ["Command", "Array"]);
    }
}
