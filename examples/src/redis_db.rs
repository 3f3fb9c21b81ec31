//! The in-memory command engine of an example Redis-compatible server.
//!
//! The server decodes each [`Command`] with the codec generated from `resp.wire`, turns it
//! into words with [`command_args`], and hands them to [`Db::execute`], which answers with
//! the values to send. What is here is pure logic: a keyspace of binary-safe strings with
//! lazy expiry, pub/sub across connections (messages go out through each connection's
//! [`Subscriber`]), and the connection commands redis-cli, redis-benchmark and client
//! libraries send (HELLO, CLIENT, COMMAND, INFO, CONFIG GET), with Redis 7's replies and
//! error texts in RESP2 and RESP3.

use bytes::Bytes;
use polywire::Str;
use polywire_protocols::resp::{
    Array, BulkString, Command, Integer, Map, Null, Pair, Push, SimpleError, SimpleString, Value,
    VerbatimString,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Redis version HELLO and INFO report.
pub const REDIS_VERSION: &str = "7.0.15";

const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX_ERROR: &str = "ERR syntax error";

// ---------------------------------------------------------------------------------------------
// Values

/// A bulk string holding a copy of `b`.
pub fn bulk(b: &[u8]) -> Value {
    blob(Bytes::copy_from_slice(b))
}

/// A simple string (`+text`).
pub fn simple(text: &str) -> Value {
    Value::SimpleString(SimpleString {
        text: Str::from(text),
    })
}

/// A simple error (`-text`); `text` starts with its code, e.g. `"ERR syntax error"`.
pub fn error(text: &str) -> Value {
    Value::SimpleError(SimpleError {
        text: Str::from(text),
    })
}

/// An integer (`:n`).
pub fn int(n: i64) -> Value {
    Value::Integer(Integer { value: n })
}

/// The null of `protocol`: `$-1` in RESP2, `_` in RESP3.
pub fn null(protocol: u32) -> Value {
    if protocol >= 3 {
        Value::Null(Null {})
    } else {
        Value::BulkString(BulkString { data: None })
    }
}

/// An array (`*n`) of `items`.
pub fn array(items: Vec<Value>) -> Value {
    Value::Array(Array { items: Some(items) })
}

/// The null array of `protocol`: `*-1` in RESP2, `_` in RESP3.
pub fn null_array(protocol: u32) -> Value {
    if protocol >= 3 {
        Value::Null(Null {})
    } else {
        Value::Array(Array { items: None })
    }
}

/// A bulk string of `b`, without copying.
/// A stored value for a reply: copied when short (with mimalloc, an allocation costs less
/// than the two atomic operations on a shared count), shared when long.
fn reply_copy(v: &Bytes) -> Bytes {
    if v.len() < 64 {
        Bytes::copy_from_slice(v)
    } else {
        v.clone()
    }
}

fn blob(b: Bytes) -> Value {
    Value::BulkString(BulkString { data: Some(b) })
}

fn bulk_static(s: &'static str) -> Value {
    blob(Bytes::from_static(s.as_bytes()))
}

/// An error of text made from the client's words: lines end nowhere but at the end, as
/// Redis makes sure.
fn error_text(text: String) -> Value {
    let text = if text.contains(['\r', '\n']) {
        text.replace(['\r', '\n'], " ")
    } else {
        text
    };
    Value::SimpleError(SimpleError {
        text: Str::from(text),
    })
}

/// An array in RESP2, an out-of-band push in RESP3.
fn push_or_array(protocol: u32, items: Vec<Value>) -> Value {
    if protocol >= 3 {
        Value::Push(Push { items })
    } else {
        array(items)
    }
}

/// A map in RESP3, a flat array of keys and values in RESP2.
fn map_reply(protocol: u32, pairs: Vec<(Value, Value)>) -> Value {
    if protocol >= 3 {
        Value::Map(Map {
            entries: pairs
                .into_iter()
                .map(|(key, value)| Pair { key, value })
                .collect(),
        })
    } else {
        array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())
    }
}

fn count(n: usize) -> Value {
    int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `b` as text for an error message: up to its first NUL and at most `max` bytes, as C's
/// `%.*s` prints it.
fn lossy(b: &[u8], max: usize) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len()).min(max);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Commands as words

/// The words of a command: an `Array` of bulk strings, or an inline line split as Redis's
/// `sdssplitargs` does (spaces; `"double quotes"` with `\n \r \t \b \a \\ \" \xHH` escapes;
/// `'single quotes'` with `\'` only).
///
/// `Err` holds Redis's protocol error without its leading `ERR `, e.g. `Protocol error:
/// expected '$', got ':'` or `Protocol error: unbalanced quotes in request`: the caller
/// answers `-ERR <text>` and closes the connection. An empty line or array gives no words.
pub fn command_args(cmd: Command) -> Result<Vec<Bytes>, String> {
    let mut words = Vec::new();
    command_words(cmd, &mut words)?;
    Ok(words)
}

/// [`command_args`] into `words` (cleared first), so that a connection reuses one buffer
/// for the words of all its commands. On `Err`, `words` holds what came before the fault.
pub fn command_words(cmd: Command, words: &mut Vec<Bytes>) -> Result<(), String> {
    words.clear();
    match cmd {
        Command::Array(Array { items }) => {
            let items = items.unwrap_or_default();
            words.reserve(items.len());
            for item in items {
                match item {
                    Value::BulkString(BulkString { data: Some(d) }) => words.push(d),
                    Value::BulkString(BulkString { data: None }) => {
                        return Err("Protocol error: invalid bulk length".to_string());
                    }
                    other => {
                        return Err(format!(
                            "Protocol error: expected '$', got '{}'",
                            char::from(marker(&other))
                        ));
                    }
                }
            }
            Ok(())
        }
        // Answered by nothing (`Empty -> nothing`): the server never hands it over.
        Command::Empty(_) => Ok(()),
        Command::Inline(inline) => {
            *words = split_args(inline.line.as_bytes())
                .ok_or_else(|| "Protocol error: unbalanced quotes in request".to_string())?;
            Ok(())
        }
    }
}

/// The first byte of `v` on the wire.
fn marker(v: &Value) -> u8 {
    match v {
        Value::SimpleString(_) => b'+',
        Value::SimpleError(_) => b'-',
        Value::Integer(_) => b':',
        Value::BulkString(_) => b'$',
        Value::Array(_) => b'*',
        Value::Null(_) => b'_',
        Value::Boolean(_) => b'#',
        Value::Double(_) => b',',
        Value::BigNumber(_) => b'(',
        Value::BulkError(_) => b'!',
        Value::VerbatimString(_) => b'=',
        Value::Map(_) => b'%',
        Value::Set(_) => b'~',
        Value::Attribute(_) => b'|',
        Value::Push(_) => b'>',
    }
}

/// C's `isspace`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Redis's `sdssplitargs`: `None` for an unbalanced quote, or a closing quote followed by
/// something other than a space. As in C, a NUL byte ends the line.
fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    let mut out = Vec::new();
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Some(out);
        }
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        let mut word = Vec::new();
        while !done {
            let c = at(p);
            if in_double {
                if let (b'\\', b'x', Some(hi), Some(lo)) =
                    (c, at(p + 1), hex_value(at(p + 2)), hex_value(at(p + 3)))
                {
                    word.push(hi * 16 + lo);
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    word.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must be followed by a space or nothing at all.
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    word.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    word.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    word.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => word.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(Bytes::from(word));
    }
}

// ---------------------------------------------------------------------------------------------
// Glob patterns

/// Redis's `stringmatchlen`: `*`, `?`, `[abc]`, `[^a]`, `[a-z]` and `\x` escapes, byte for
/// byte (ranges compare bytes as C's signed `char`); `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn glob_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns.
    if nesting > 1000 {
        return false;
    }
    let fold = |c: u8| if nocase { c.to_ascii_lowercase() } else { c };
    // The pattern as C sees it: a NUL past its end.
    let pc = |i: usize| pat.get(i).copied().unwrap_or(0);
    let (mut p, mut si) = (0usize, 0usize);
    while p < pat.len() && si < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while si < s.len() {
                    if glob_impl(&pat[p + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                // No match for the rest of the pattern from anywhere in the rest of the
                // string: an earlier `*` matching more cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = pc(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                let c = s[si];
                loop {
                    let left = pat.len().saturating_sub(p);
                    if pc(p) == b'\\' && left >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if pc(p) == b']' {
                        break;
                    } else if left == 0 {
                        // An unterminated class: step back so that the pattern ends below.
                        p -= 1;
                        break;
                    } else if left >= 3 && pat[p + 1] == b'-' {
                        let signed = |b: u8| i32::from(b as i8);
                        let mut start = signed(fold(pat[p]));
                        let mut end = signed(fold(pat[p + 2]));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let ch = signed(fold(c));
                        p += 2;
                        if (start..=end).contains(&ch) {
                            matched = true;
                        }
                    } else if fold(pat[p]) == fold(c) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            first => {
                let want = if first == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    first
                };
                if fold(want) != fold(s[si]) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while pc(p) == b'*' && p < pat.len() {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && si == s.len()
}

// ---------------------------------------------------------------------------------------------
// Numbers and time

/// Redis's `string2ll`: an optional `-`, no leading zeros, no spaces, no `+`, within `i64`.
fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() >= 21 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// Milliseconds since the Unix epoch.
fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// When a key `delta_ms` from now expires (at once when not positive; `None`, never,
/// beyond what `Instant` holds).
fn deadline(delta_ms: i64) -> Option<Instant> {
    let now = Instant::now();
    match u64::try_from(delta_ms) {
        Ok(ms) if ms > 0 => now.checked_add(Duration::from_millis(ms)),
        _ => Some(now),
    }
}

/// Milliseconds left until `t` (0 once passed).
fn remaining_ms(t: Instant) -> i64 {
    i64::try_from(t.saturating_duration_since(Instant::now()).as_millis()).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------
// The keyspace and the pub/sub registry

/// Who receives pub/sub messages: implemented by the server over its connection handle.
pub trait Subscriber: Clone + Send + Sync + 'static {
    /// Queues `v` to be sent to this subscriber unasked; false when it is gone or full.
    ///
    /// Called with the pub/sub registry locked: it must not block nor call back into the
    /// [`Db`].
    fn deliver(&self, v: Value) -> bool;
}

/// A value and when it expires.
#[derive(Debug)]
struct Entry {
    value: Bytes,
    expires_at: Option<Instant>,
}

impl Entry {
    fn expired(&self) -> bool {
        self.expires_at.is_some_and(|t| Instant::now() >= t)
    }
}

/// Keys hashed with foldhash, several times faster than std's SipHash on the short keys a
/// keyspace holds; its `RandomState` is seeded at random for each map, so that colliding
/// keys cannot be chosen in advance (Redis seeds its SipHash alike).
type Keyspace = HashMap<Bytes, Entry, foldhash::fast::RandomState>;

/// The entry of `key` unless it is missing or expired (then it is removed).
fn live<'a>(m: &'a mut Keyspace, key: &[u8]) -> Option<&'a mut Entry> {
    if m.get(key)?.expired() {
        m.remove(key);
        return None;
    }
    m.get_mut(key)
}

/// Whether `key` is live, with one lookup when it is.
fn exists(m: &mut Keyspace, key: &[u8]) -> bool {
    match m.get(key) {
        Some(e) if !e.expired() => true,
        Some(_) => {
            m.remove(key);
            false
        }
        None => false,
    }
}

/// A subscribed connection as the registry holds it.
struct Sub<S> {
    sink: S,
    protocol: Arc<AtomicU32>,
}

/// Channel (or pattern) -> client id -> subscriber.
type Subs<S> = HashMap<Bytes, HashMap<u64, Sub<S>>>;

struct Registry<S> {
    channels: Subs<S>,
    patterns: Subs<S>,
}

impl<S> Registry<S> {
    fn of(&mut self, pattern: bool) -> &mut Subs<S> {
        if pattern {
            &mut self.patterns
        } else {
            &mut self.channels
        }
    }
}

/// What [`Db`]'s lock guards: the keyspace, and each open connection's state (the server's
/// commands come through [`Db::execute_for`], which finds the connection's state and runs
/// its command under one lock).
struct Shared<S: Subscriber> {
    keys: Keyspace,
    sessions: HashMap<u64, Session<S>, foldhash::fast::RandomState>,
}

/// A connection's state: its [`Client`], and the buffer its commands' words are read into
/// (one allocation for the connection, not one per command).
struct Session<S: Subscriber> {
    client: Client<S>,
    words: Vec<Bytes>,
}

/// The keyspace and the pub/sub registry shared by all connections.
///
/// Keys and values are copied when stored, so that they do not hold on to the buffers
/// they were read into. Expired keys go when a command touches them, or at `KEYS`,
/// `DBSIZE` and `INFO`.
pub struct Db<S: Subscriber> {
    /// The keyspace and the connections' state: one lock per command.
    state: Mutex<Shared<S>>,
    pubsub: Mutex<Registry<S>>,
    started: Instant,
}

impl<S: Subscriber> Default for Db<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Subscriber> std::fmt::Debug for Db<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// One connection's state.
pub struct Client<S: Subscriber> {
    id: u64,
    sink: S,
    /// 2 or 3; shared with the registry, which builds messages for it.
    protocol: Arc<AtomicU32>,
    name: Option<Bytes>,
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
}

impl<S: Subscriber> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("protocol", &self.protocol())
            .field("name", &self.name)
            .field("channels", &self.channels.len())
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl<S: Subscriber> Client<S> {
    /// A connection numbered `id` (what `CLIENT ID` and `HELLO` answer), speaking RESP2,
    /// whose pub/sub messages go to `sink`.
    pub fn new(id: u64, sink: S) -> Self {
        Client {
            id,
            sink,
            protocol: Arc::new(AtomicU32::new(2)),
            name: None,
            channels: HashSet::new(),
            patterns: HashSet::new(),
        }
    }

    /// The protocol the connection speaks: 2, or 3 after `HELLO 3`.
    pub fn protocol(&self) -> u32 {
        self.protocol.load(Ordering::Relaxed)
    }

    /// The connection's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name set by `CLIENT SETNAME` or `HELLO ... SETNAME`.
    pub fn name(&self) -> Option<&Bytes> {
        self.name.as_ref()
    }

    /// The channels and patterns the connection is subscribed to.
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    fn set_protocol(&self, p: u32) {
        self.protocol.store(p, Ordering::Relaxed);
    }

    fn set_of(&mut self, pattern: bool) -> &mut HashSet<Bytes> {
        if pattern {
            &mut self.patterns
        } else {
            &mut self.channels
        }
    }
}

/// What executing one command produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// The answer: there is one for every command except an empty one.
    pub value: Option<Value>,
    /// Values sent after the answer: (P)SUBSCRIBE / (P)UNSUBSCRIBE answer one per channel
    /// (RESP2: arrays; RESP3: pushes), the first of them in `value`. Empty (no allocation)
    /// for every other command.
    pub more: Vec<Value>,
    /// Close the connection after sending them (QUIT).
    pub close: bool,
    /// The protocol the connection speaks from this answer on, when the command switched
    /// it (`HELLO 3`; set by [`Db::execute_for`]).
    pub protocol: Option<u32>,
}

impl Reply {
    /// The answer `v` alone.
    pub fn one(v: Value) -> Self {
        Reply {
            value: Some(v),
            ..Reply::default()
        }
    }

    /// Answers in the order they are sent: `value`, then `more`.
    fn many(values: Vec<Value>) -> Self {
        let mut values = values.into_iter();
        Reply {
            value: values.next(),
            more: values.collect(),
            ..Reply::default()
        }
    }

    /// Every value to send, in order.
    pub fn values(self) -> Vec<Value> {
        self.value.into_iter().chain(self.more).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The command table

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Get,
    Set,
    Del,
    Exists,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    MGet,
    MSet,
    Expire,
    PExpire,
    ExpireAt,
    PExpireAt,
    Ttl,
    PTtl,
    Persist,
    Keys,
    DbSize,
    FlushDb,
    FlushAll,
    Ping,
    Echo,
    Hello,
    Auth,
    Select,
    Subscribe,
    Unsubscribe,
    PSubscribe,
    PUnsubscribe,
    Publish,
    Quit,
    Reset,
    Info,
    Command,
    CommandCount,
    CommandDocs,
    Client,
    ClientSetName,
    ClientGetName,
    ClientId,
    ClientSetInfo,
    Config,
    ConfigGet,
}

/// A command or subcommand: the word that names it, its full name in errors (`client|id`),
/// Redis's arity (n: exactly n words; -n: at least n), whether a RESP2 connection may send
/// it while subscribed, and its subcommands.
struct Spec {
    word: &'static str,
    name: &'static str,
    cmd: Cmd,
    arity: i32,
    pubsub: bool,
    subs: &'static [Spec],
}

const fn top(word: &'static str, cmd: Cmd, arity: i32) -> Spec {
    Spec {
        word,
        name: word,
        cmd,
        arity,
        pubsub: false,
        subs: &[],
    }
}

const fn in_pubsub(word: &'static str, cmd: Cmd, arity: i32) -> Spec {
    Spec {
        pubsub: true,
        ..top(word, cmd, arity)
    }
}

const fn sub(word: &'static str, name: &'static str, cmd: Cmd, arity: i32) -> Spec {
    Spec {
        name,
        ..top(word, cmd, arity)
    }
}

const fn container(word: &'static str, cmd: Cmd, arity: i32, subs: &'static [Spec]) -> Spec {
    Spec {
        subs,
        ..top(word, cmd, arity)
    }
}

static CLIENT_SUBS: [Spec; 4] = [
    sub("setname", "client|setname", Cmd::ClientSetName, 3),
    sub("getname", "client|getname", Cmd::ClientGetName, 2),
    sub("id", "client|id", Cmd::ClientId, 2),
    sub("setinfo", "client|setinfo", Cmd::ClientSetInfo, 4),
];

static COMMAND_SUBS: [Spec; 2] = [
    sub("docs", "command|docs", Cmd::CommandDocs, -2),
    sub("count", "command|count", Cmd::CommandCount, 2),
];

static CONFIG_SUBS: [Spec; 1] = [sub("get", "config|get", Cmd::ConfigGet, -3)];

/// Every command, the frequent first.
static COMMANDS: [Spec; 37] = [
    top("get", Cmd::Get, 2),
    top("set", Cmd::Set, -3),
    top("incr", Cmd::Incr, 2),
    top("mget", Cmd::MGet, -2),
    top("mset", Cmd::MSet, -3),
    top("del", Cmd::Del, -2),
    top("exists", Cmd::Exists, -2),
    top("decr", Cmd::Decr, 2),
    top("incrby", Cmd::IncrBy, 3),
    top("decrby", Cmd::DecrBy, 3),
    top("expire", Cmd::Expire, -3),
    top("pexpire", Cmd::PExpire, -3),
    top("expireat", Cmd::ExpireAt, -3),
    top("pexpireat", Cmd::PExpireAt, -3),
    top("ttl", Cmd::Ttl, 2),
    top("pttl", Cmd::PTtl, 2),
    top("persist", Cmd::Persist, 2),
    top("keys", Cmd::Keys, 2),
    top("dbsize", Cmd::DbSize, 1),
    top("flushdb", Cmd::FlushDb, -1),
    top("flushall", Cmd::FlushAll, -1),
    in_pubsub("ping", Cmd::Ping, -1),
    top("echo", Cmd::Echo, 2),
    top("hello", Cmd::Hello, -1),
    top("auth", Cmd::Auth, -2),
    top("select", Cmd::Select, 2),
    in_pubsub("subscribe", Cmd::Subscribe, -2),
    in_pubsub("unsubscribe", Cmd::Unsubscribe, -1),
    in_pubsub("psubscribe", Cmd::PSubscribe, -2),
    in_pubsub("punsubscribe", Cmd::PUnsubscribe, -1),
    top("publish", Cmd::Publish, 3),
    in_pubsub("quit", Cmd::Quit, -1),
    in_pubsub("reset", Cmd::Reset, 1),
    top("info", Cmd::Info, -1),
    container("command", Cmd::Command, -1, &COMMAND_SUBS),
    container("client", Cmd::Client, -2, &CLIENT_SUBS),
    container("config", Cmd::Config, -2, &CONFIG_SUBS),
];

fn find(table: &'static [Spec], word: &[u8]) -> Option<&'static Spec> {
    table
        .iter()
        .find(|s| s.word.len() == word.len() && s.word.as_bytes().eq_ignore_ascii_case(word))
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    let argc = i64::try_from(argc).unwrap_or(i64::MAX);
    let arity = i64::from(arity);
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

/// Redis 7's answer to an unknown command: the name and the first arguments, quoted.
fn unknown_command(args: &[Bytes]) -> Value {
    let mut listed = String::new();
    for a in &args[1..] {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        let _ = write!(listed, "'{}' ", lossy(a, room));
    }
    error_text(format!(
        "ERR unknown command '{}', with args beginning with: {listed}",
        lossy(&args[0], 128)
    ))
}

fn wrong_arity(name: &str) -> Value {
    error_text(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// Redis's `SET ... [NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL]`.
#[derive(Debug, Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    /// The unit word (`ex`, `px`, `exat`, `pxat`) and its argument.
    expire: Option<(&'static str, usize)>,
}

fn set_options(args: &[Bytes]) -> Result<SetOptions, Value> {
    let mut o = SetOptions::default();
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j][..];
        let has_next = j + 1 < args.len();
        let unit = o.expire.map(|(u, _)| u);
        let other_unit = |u: &str| unit.is_some_and(|x| x != u);
        if opt.eq_ignore_ascii_case(b"nx") && !o.xx {
            o.nx = true;
        } else if opt.eq_ignore_ascii_case(b"xx") && !o.nx {
            o.xx = true;
        } else if opt.eq_ignore_ascii_case(b"get") {
            o.get = true;
        } else if opt.eq_ignore_ascii_case(b"keepttl") && unit.is_none() {
            o.keep_ttl = true;
        } else if let Some(u) = ["ex", "px", "exat", "pxat"]
            .into_iter()
            .find(|u| opt.eq_ignore_ascii_case(u.as_bytes()))
            .filter(|u| !o.keep_ttl && !other_unit(u) && has_next)
        {
            o.expire = Some((u, j + 1));
            j += 1;
        } else {
            return Err(error(SYNTAX_ERROR));
        }
        j += 1;
    }
    Ok(o)
}

fn expire_time_error(name: &str) -> Value {
    error_text(format!("ERR invalid expire time in '{name}' command"))
}

/// SET's expiry as milliseconds from now.
fn set_expiry(unit: &str, arg: &[u8]) -> Result<i64, Value> {
    let n = parse_i64(arg).ok_or_else(|| error(NOT_AN_INTEGER))?;
    let seconds = unit == "ex" || unit == "exat";
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        return Err(expire_time_error("set"));
    }
    let ms = if seconds { n * 1000 } else { n };
    let now = unix_ms();
    let at = if unit == "ex" || unit == "px" {
        ms.checked_add(now)
            .ok_or_else(|| expire_time_error("set"))?
    } else {
        ms
    };
    Ok(at.saturating_sub(now))
}

/// The settings `CONFIG GET` knows, as redis-benchmark and redis-cli ask for them.
const CONFIG: [(&str, &str); 5] = [
    ("appendonly", "no"),
    ("databases", "1"),
    ("maxmemory", "0"),
    ("save", ""),
    ("timeout", "0"),
];

/// Client names (and `CLIENT SETINFO` values) are printable ASCII without spaces.
fn valid_client_attr(b: &[u8]) -> bool {
    b.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

// ---------------------------------------------------------------------------------------------
// Execution

impl<S: Subscriber> Db<S> {
    /// An empty keyspace with no subscriptions.
    pub fn new() -> Self {
        Db {
            state: Mutex::new(Shared {
                keys: Keyspace::default(),
                sessions: HashMap::default(),
            }),
            pubsub: Mutex::new(Registry {
                channels: HashMap::new(),
                patterns: HashMap::new(),
            }),
            started: Instant::now(),
        }
    }

    fn state(&self) -> MutexGuard<'_, Shared<S>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pubsub(&self) -> MutexGuard<'_, Registry<S>> {
        self.pubsub.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the command `args` (its name first, matched without regard to case) for
    /// `client`. No words, no answer.
    pub fn execute(&self, client: &mut Client<S>, args: &[Bytes]) -> Reply {
        self.run(&mut self.state().keys, client, args)
    }

    /// Runs the command `cmd` of the connection `id`, whose state is made with its
    /// subscriber `sink()` at its first command and dropped by [`Db::disconnect_id`]. A
    /// command that is not words (an array of something other than bulk strings,
    /// unbalanced quotes) is answered by Redis's protocol error, and closes. When the
    /// command switched the connection's protocol (`HELLO 3`), [`Reply::protocol`] says to
    /// what.
    pub fn execute_for(&self, id: u64, sink: impl FnOnce() -> S, cmd: Command) -> Reply {
        let mut st = self.state();
        let Shared { keys, sessions } = &mut *st;
        let Session { client, words } = sessions.entry(id).or_insert_with(|| Session {
            client: Client::new(id, sink()),
            words: Vec::new(),
        });
        let words_ok = command_words(cmd, words);
        let reply = match words_ok {
            Ok(()) => {
                let before = client.protocol();
                let mut reply = self.run(keys, client, words);
                if client.protocol() != before {
                    reply.protocol = Some(client.protocol());
                }
                reply
            }
            Err(e) => Reply {
                close: true,
                ..Reply::one(error(&format!("ERR {e}")))
            },
        };
        // The words go now, not when the next command comes (a large SET's value would
        // otherwise stay in memory while the connection is idle).
        words.clear();
        reply
    }

    /// Drops the state of the connection `id` (its subscriptions).
    pub fn disconnect_id(&self, id: u64) {
        let gone = {
            let mut st = self.state();
            let gone = st.sessions.remove(&id);
            // A table that grew for many connections shrinks as they go, so that the memory
            // a burst of connections took is given back after it.
            if st.sessions.capacity() > 64 && st.sessions.len() * 4 < st.sessions.capacity() {
                let keep = st.sessions.len() * 2;
                st.sessions.shrink_to(keep);
            }
            gone
        };
        if let Some(mut s) = gone {
            self.disconnect(&mut s.client);
        }
    }

    /// [`Db::execute`] with the keyspace locked: `m`.
    fn run(&self, m: &mut Keyspace, client: &mut Client<S>, args: &[Bytes]) -> Reply {
        let Some(first) = args.first() else {
            return Reply::default();
        };
        let Some(mut spec) = find(&COMMANDS, first) else {
            return Reply::one(unknown_command(args));
        };
        if !spec.subs.is_empty() && args.len() >= 2 {
            match find(spec.subs, &args[1]) {
                Some(s) => spec = s,
                None => {
                    return Reply::one(error_text(format!(
                        "ERR unknown subcommand '{}'. Try {} HELP.",
                        lossy(&args[1], 128),
                        lossy(first, usize::MAX).to_ascii_uppercase()
                    )));
                }
            }
        }
        if !arity_ok(spec.arity, args.len()) {
            return Reply::one(wrong_arity(spec.name));
        }
        let protocol = client.protocol();
        if protocol == 2 && client.subscriptions() > 0 && !spec.pubsub {
            return Reply::one(error_text(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.name
            )));
        }
        let v = match spec.cmd {
            Cmd::Get => match self.get(m, &args[1]) {
                Some(v) => blob(v),
                None => null(protocol),
            },
            Cmd::Set => self.set(m, args, protocol),
            Cmd::Incr => self.incr_by(m, &args[1], 1),
            Cmd::Decr => self.incr_by(m, &args[1], -1),
            Cmd::IncrBy | Cmd::DecrBy => match parse_i64(&args[2]) {
                None => error(NOT_AN_INTEGER),
                Some(i64::MIN) if spec.cmd == Cmd::DecrBy => error("ERR decrement would overflow"),
                Some(n) if spec.cmd == Cmd::DecrBy => self.incr_by(m, &args[1], -n),
                Some(n) => self.incr_by(m, &args[1], n),
            },
            Cmd::MGet => array(
                args[1..]
                    .iter()
                    .map(|k| match live(m, k) {
                        Some(e) => blob(reply_copy(&e.value)),
                        None => null(protocol),
                    })
                    .collect(),
            ),
            Cmd::MSet => self.mset(m, args),
            Cmd::Del => {
                let n = args[1..]
                    .iter()
                    .filter(|k| m.remove(&k[..]).is_some_and(|e| !e.expired()))
                    .count();
                count(n)
            }
            Cmd::Exists => count(args[1..].iter().filter(|k| exists(m, k)).count()),
            Cmd::Expire => self.expire(m, args, spec.name, true, false),
            Cmd::PExpire => self.expire(m, args, spec.name, false, false),
            Cmd::ExpireAt => self.expire(m, args, spec.name, true, true),
            Cmd::PExpireAt => self.expire(m, args, spec.name, false, true),
            Cmd::Ttl | Cmd::PTtl => match live(m, &args[1]) {
                None => int(-2),
                Some(Entry {
                    expires_at: None, ..
                }) => int(-1),
                Some(Entry {
                    expires_at: Some(t),
                    ..
                }) => {
                    let ms = remaining_ms(*t);
                    int(if spec.cmd == Cmd::Ttl {
                        ms.saturating_add(500) / 1000
                    } else {
                        ms
                    })
                }
            },
            Cmd::Persist => match live(m, &args[1]) {
                Some(e) if e.expires_at.is_some() => {
                    e.expires_at = None;
                    int(1)
                }
                _ => int(0),
            },
            Cmd::Keys => self.keys_matching(m, &args[1]),
            Cmd::DbSize => {
                m.retain(|_, e| !e.expired());
                count(m.len())
            }
            Cmd::FlushDb | Cmd::FlushAll => {
                let ok = match args.get(1) {
                    None => args.len() == 1,
                    Some(a) => {
                        args.len() == 2
                            && (a.eq_ignore_ascii_case(b"sync") || a.eq_ignore_ascii_case(b"async"))
                    }
                };
                if ok {
                    drop(std::mem::take(m));
                    simple("OK")
                } else {
                    error(SYNTAX_ERROR)
                }
            }
            Cmd::Ping => match (args.len(), protocol, client.subscriptions() > 0) {
                (3.., _, _) => wrong_arity("ping"),
                (_, 2, true) => array(vec![
                    bulk_static("pong"),
                    args.get(1)
                        .map_or_else(|| bulk_static(""), |m| blob(m.clone())),
                ]),
                (1, _, _) => simple("PONG"),
                _ => blob(args[1].clone()),
            },
            Cmd::Echo => blob(args[1].clone()),
            Cmd::Hello => self.hello(client, args),
            Cmd::Auth => match args.len() {
                2 => error(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ),
                3 => auth(&args[1]),
                _ => error(SYNTAX_ERROR),
            },
            Cmd::Select => match parse_i64(&args[1]) {
                Some(0) => simple("OK"),
                Some(n) if i32::try_from(n).is_ok() => error("ERR DB index is out of range"),
                _ => error("ERR invalid DB index"),
            },
            Cmd::Subscribe | Cmd::PSubscribe => {
                let pattern = spec.cmd == Cmd::PSubscribe;
                return Reply::many(self.subscribe(client, &args[1..], pattern));
            }
            Cmd::Unsubscribe | Cmd::PUnsubscribe => {
                let pattern = spec.cmd == Cmd::PUnsubscribe;
                return Reply::many(self.unsubscribe(client, &args[1..], pattern, true));
            }
            Cmd::Publish => count(self.publish(&args[1], &args[2])),
            Cmd::Quit => {
                return Reply {
                    close: true,
                    ..Reply::one(simple("OK"))
                };
            }
            Cmd::Reset => {
                self.disconnect(client);
                client.set_protocol(2);
                client.name = None;
                simple("RESET")
            }
            Cmd::Info => self.info(m, &args[1..], protocol),
            Cmd::Command => array(Vec::new()),
            Cmd::CommandCount => count(COMMANDS.len()),
            Cmd::CommandDocs => map_reply(protocol, Vec::new()),
            Cmd::ClientSetName => match set_name(client, &args[2]) {
                Ok(()) => simple("OK"),
                Err(e) => e,
            },
            Cmd::ClientGetName => client.name.clone().map_or_else(|| null(protocol), blob),
            Cmd::ClientId => int(i64::try_from(client.id).unwrap_or(i64::MAX)),
            Cmd::ClientSetInfo => {
                let attr = &args[2];
                if !attr.eq_ignore_ascii_case(b"lib-name") && !attr.eq_ignore_ascii_case(b"lib-ver")
                {
                    error_text(format!(
                        "ERR Unrecognized option '{}'",
                        lossy(attr, usize::MAX)
                    ))
                } else if !valid_client_attr(&args[3]) {
                    error_text(format!(
                        "ERR {} cannot contain spaces, newlines or special characters.",
                        lossy(attr, usize::MAX)
                    ))
                } else {
                    simple("OK")
                }
            }
            Cmd::ConfigGet => config_get(&args[2..], protocol),
            // Containers alone fail their arity above.
            Cmd::Client | Cmd::Config => wrong_arity(spec.name),
        };
        Reply::one(v)
    }

    /// Called when a connection ends: drops its subscriptions.
    pub fn disconnect(&self, client: &mut Client<S>) {
        if client.subscriptions() == 0 {
            return;
        }
        self.unsubscribe(client, &[], false, false);
        self.unsubscribe(client, &[], true, false);
    }

    fn get(&self, m: &mut Keyspace, key: &[u8]) -> Option<Bytes> {
        match m.get(key) {
            Some(e) if !e.expired() => Some(reply_copy(&e.value)),
            Some(_) => {
                m.remove(key);
                None
            }
            None => None,
        }
    }

    fn set(&self, m: &mut Keyspace, args: &[Bytes], protocol: u32) -> Value {
        let (key, value) = (&args[1], Bytes::copy_from_slice(&args[2]));
        if args.len() == 3 {
            // The plain SET: one lookup, a copy of the key only when it is new.
            match m.get_mut(&key[..]) {
                Some(e) => {
                    e.value = value;
                    e.expires_at = None;
                }
                None => {
                    m.insert(
                        Bytes::copy_from_slice(key),
                        Entry {
                            value,
                            expires_at: None,
                        },
                    );
                }
            }
            return simple("OK");
        }
        let o = match set_options(args) {
            Ok(o) => o,
            Err(e) => return e,
        };
        let expires_at = match o.expire {
            Some((unit, at)) => match set_expiry(unit, &args[at]) {
                Ok(ms) => deadline(ms),
                Err(e) => return e,
            },
            None => None,
        };
        let existing = live(m, key);
        let found = existing.is_some();
        let old = existing.map(|e| e.value.clone());
        let old_reply = || old.clone().map_or_else(|| null(protocol), blob);
        if (o.nx && found) || (o.xx && !found) {
            return if o.get { old_reply() } else { null(protocol) };
        }
        match m.get_mut(&key[..]) {
            Some(e) => {
                e.value = value;
                if !o.keep_ttl {
                    e.expires_at = expires_at;
                }
            }
            None => {
                m.insert(Bytes::copy_from_slice(key), Entry { value, expires_at });
            }
        }
        if o.get { old_reply() } else { simple("OK") }
    }

    fn mset(&self, m: &mut Keyspace, args: &[Bytes]) -> Value {
        if args.len().is_multiple_of(2) {
            return wrong_arity("mset");
        }
        let pairs: Vec<(&Bytes, Bytes)> = args[1..]
            .chunks_exact(2)
            .map(|kv| (&kv[0], Bytes::copy_from_slice(&kv[1])))
            .collect();
        for (key, value) in pairs {
            match m.get_mut(&key[..]) {
                Some(e) => {
                    e.value = value;
                    e.expires_at = None;
                }
                None => {
                    m.insert(
                        Bytes::copy_from_slice(key),
                        Entry {
                            value,
                            expires_at: None,
                        },
                    );
                }
            }
        }
        simple("OK")
    }

    /// INCRBY `key` `by`, keeping the key's expiry.
    fn incr_by(&self, m: &mut Keyspace, key: &[u8], by: i64) -> Value {
        let expired = match m.get_mut(key) {
            Some(e) if !e.expired() => {
                let Some(old) = parse_i64(&e.value) else {
                    return error(NOT_AN_INTEGER);
                };
                let Some(new) = old.checked_add(by) else {
                    return error("ERR increment or decrement would overflow");
                };
                e.value = Bytes::from(new.to_string());
                return int(new);
            }
            Some(_) => true,
            None => false,
        };
        if expired {
            m.remove(key);
        }
        m.insert(
            Bytes::copy_from_slice(key),
            Entry {
                value: Bytes::from(by.to_string()),
                expires_at: None,
            },
        );
        int(by)
    }

    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX / XX / GT / LT.
    fn expire(
        &self,
        m: &mut Keyspace,
        args: &[Bytes],
        name: &str,
        seconds: bool,
        absolute: bool,
    ) -> Value {
        let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
        for opt in &args[3..] {
            if opt.eq_ignore_ascii_case(b"nx") {
                nx = true;
            } else if opt.eq_ignore_ascii_case(b"xx") {
                xx = true;
            } else if opt.eq_ignore_ascii_case(b"gt") {
                gt = true;
            } else if opt.eq_ignore_ascii_case(b"lt") {
                lt = true;
            } else {
                return error_text(format!("ERR Unsupported option {}", lossy(opt, usize::MAX)));
            }
        }
        if nx && (xx || gt || lt) {
            return error("ERR NX and XX, GT or LT options at the same time are not compatible");
        }
        if gt && lt {
            return error("ERR GT and LT options at the same time are not compatible");
        }
        let Some(mut when) = parse_i64(&args[2]) else {
            return error(NOT_AN_INTEGER);
        };
        if seconds {
            if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
                return expire_time_error(name);
            }
            when *= 1000;
        }
        let now = unix_ms();
        if !absolute {
            match when.checked_add(now) {
                Some(w) => when = w,
                None => return expire_time_error(name),
            }
        }
        let key = &args[1][..];
        let Some(e) = live(m, key) else {
            return int(0);
        };
        let current = e.expires_at.map(|t| now.saturating_add(remaining_ms(t)));
        let refused = (nx && current.is_some())
            || (xx && current.is_none())
            || (gt && current.is_none_or(|c| when <= c))
            || (lt && current.is_some_and(|c| when >= c));
        if refused {
            return int(0);
        }
        if when <= now {
            m.remove(key);
        } else {
            e.expires_at = deadline(when - now);
        }
        int(1)
    }

    fn keys_matching(&self, m: &mut Keyspace, pattern: &[u8]) -> Value {
        let all = pattern == b"*";
        m.retain(|_, e| !e.expired());
        array(
            m.keys()
                .filter(|k| all || glob_match(pattern, k, false))
                .map(|k| blob(k.clone()))
                .collect(),
        )
    }

    fn hello(&self, client: &mut Client<S>, args: &[Bytes]) -> Value {
        let mut version = None;
        if let Some(v) = args.get(1) {
            match parse_i64(v) {
                None => return error("ERR Protocol version is not an integer or out of range"),
                Some(v @ 2..=3) => version = Some(v as u32),
                Some(_) => return error("NOPROTO unsupported protocol version"),
            }
        }
        let (mut user, mut name) = (None, None);
        let mut j = 2;
        while j < args.len() {
            let more = args.len() - 1 - j;
            let opt = &args[j];
            if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
                user = Some(&args[j + 1]);
                j += 2;
            } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
                name = Some(&args[j + 1]);
                j += 1;
            } else {
                return error_text(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    lossy(opt, usize::MAX)
                ));
            }
            j += 1;
        }
        if let Some(user) = user {
            let answer = auth(user);
            if answer != simple("OK") {
                return answer;
            }
        }
        if let Some(name) = name
            && let Err(e) = set_name(client, name)
        {
            return e;
        }
        if let Some(v) = version {
            client.set_protocol(v);
        }
        let protocol = client.protocol();
        map_reply(
            protocol,
            vec![
                (bulk_static("server"), bulk_static("redis")),
                (bulk_static("version"), bulk_static(REDIS_VERSION)),
                (bulk_static("proto"), int(i64::from(protocol))),
                (
                    bulk_static("id"),
                    int(i64::try_from(client.id).unwrap_or(i64::MAX)),
                ),
                (bulk_static("mode"), bulk_static("standalone")),
                (bulk_static("role"), bulk_static("master")),
                (bulk_static("modules"), array(Vec::new())),
            ],
        )
    }

    fn subscribe(&self, client: &mut Client<S>, names: &[Bytes], pattern: bool) -> Vec<Value> {
        let protocol = client.protocol();
        let kind = if pattern { "psubscribe" } else { "subscribe" };
        let mut reg = self.pubsub();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let name = Bytes::copy_from_slice(name);
            if client.set_of(pattern).insert(name.clone()) {
                reg.of(pattern).entry(name.clone()).or_default().insert(
                    client.id,
                    Sub {
                        sink: client.sink.clone(),
                        protocol: client.protocol.clone(),
                    },
                );
            }
            out.push(pubsub_reply(
                protocol,
                kind,
                Some(name),
                client.subscriptions(),
            ));
        }
        out
    }

    /// Unsubscribes `client` from `names` (all its channels or patterns when empty),
    /// answering for each when `notify`.
    fn unsubscribe(
        &self,
        client: &mut Client<S>,
        names: &[Bytes],
        pattern: bool,
        notify: bool,
    ) -> Vec<Value> {
        let protocol = client.protocol();
        let kind = if pattern {
            "punsubscribe"
        } else {
            "unsubscribe"
        };
        let names: Vec<Bytes> = if names.is_empty() {
            let mut all: Vec<Bytes> = client.set_of(pattern).iter().cloned().collect();
            all.sort();
            if all.is_empty() && notify {
                return vec![pubsub_reply(protocol, kind, None, client.subscriptions())];
            }
            all
        } else {
            names.to_vec()
        };
        let mut reg = self.pubsub();
        let mut out = Vec::with_capacity(if notify { names.len() } else { 0 });
        for name in names {
            if client.set_of(pattern).remove(&name[..]) {
                let subs = reg.of(pattern);
                if let Some(clients) = subs.get_mut(&name[..]) {
                    clients.remove(&client.id);
                    if clients.is_empty() {
                        subs.remove(&name[..]);
                    }
                }
            }
            if notify {
                out.push(pubsub_reply(
                    protocol,
                    kind,
                    Some(name),
                    client.subscriptions(),
                ));
            }
        }
        out
    }

    /// Delivers `payload` to the subscribers of `channel` and of the patterns matching it;
    /// how many took it.
    fn publish(&self, channel: &Bytes, payload: &Bytes) -> usize {
        let reg = self.pubsub();
        let mut delivered = 0;
        let mut send = |subs: &HashMap<u64, Sub<S>>, pattern: Option<&Bytes>| {
            let mut built: [Option<Value>; 2] = [None, None];
            for s in subs.values() {
                let protocol = s.protocol.load(Ordering::Relaxed);
                let slot = &mut built[usize::from(protocol >= 3)];
                let v = slot
                    .get_or_insert_with(|| message(protocol, pattern, channel, payload))
                    .clone();
                if s.sink.deliver(v) {
                    delivered += 1;
                }
            }
        };
        if let Some(subs) = reg.channels.get(&channel[..]) {
            send(subs, None);
        }
        for (pattern, subs) in &reg.patterns {
            if glob_match(pattern, channel, false) {
                send(subs, Some(pattern));
            }
        }
        delivered
    }

    fn info(&self, m: &mut Keyspace, sections: &[Bytes], protocol: u32) -> Value {
        let wanted = |name: &str| {
            sections.is_empty()
                || sections.iter().any(|s| {
                    s.eq_ignore_ascii_case(name.as_bytes())
                        || s.eq_ignore_ascii_case(b"all")
                        || s.eq_ignore_ascii_case(b"everything")
                        || s.eq_ignore_ascii_case(b"default")
                })
        };
        let mut text = String::new();
        let mut section = |name: &str, body: &dyn Fn(&mut String)| {
            if wanted(&name.to_ascii_lowercase()) {
                if !text.is_empty() {
                    text.push_str("\r\n");
                }
                let _ = write!(text, "# {name}\r\n");
                body(&mut text);
            }
        };
        let uptime = self.started.elapsed().as_secs();
        section("Server", &|t| {
            let _ = write!(
                t,
                "redis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
                 redis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nprocess_id:{}\r\n\
                 uptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\n",
                std::env::consts::OS,
                std::env::consts::ARCH,
                usize::BITS,
                std::process::id(),
                uptime / 86400
            );
        });
        section("Persistence", &|t| {
            t.push_str("loading:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:0\r\n");
        });
        let (channels, patterns) = {
            let reg = self.pubsub();
            (reg.channels.len(), reg.patterns.len())
        };
        section("Stats", &|t| {
            let _ = write!(
                t,
                "pubsub_channels:{channels}\r\npubsub_patterns:{patterns}\r\n"
            );
        });
        section("Replication", &|t| {
            t.push_str("role:master\r\nconnected_slaves:0\r\n");
        });
        let (keys, volatile) = {
            m.retain(|_, e| !e.expired());
            (
                m.len(),
                m.values().filter(|e| e.expires_at.is_some()).count(),
            )
        };
        section("Keyspace", &|t| {
            if keys > 0 {
                let _ = write!(t, "db0:keys={keys},expires={volatile},avg_ttl=0\r\n");
            }
        });
        if protocol >= 3 {
            let mut data = Vec::with_capacity(4 + text.len());
            data.extend_from_slice(b"txt:");
            data.extend_from_slice(text.as_bytes());
            Value::VerbatimString(VerbatimString {
                data: Bytes::from(data),
            })
        } else {
            blob(Bytes::from(text))
        }
    }
}

/// AUTH `user` with any password: only `default`, which has none, as on a Redis without
/// `requirepass`.
fn auth(user: &[u8]) -> Value {
    if user == b"default" {
        simple("OK")
    } else {
        error("WRONGPASS invalid username-password pair or user is disabled.")
    }
}

fn set_name<S: Subscriber>(client: &mut Client<S>, name: &Bytes) -> Result<(), Value> {
    if !valid_client_attr(name) {
        return Err(error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    client.name = (!name.is_empty()).then(|| Bytes::copy_from_slice(name));
    Ok(())
}

fn config_get(params: &[Bytes], protocol: u32) -> Value {
    let mut hit = [false; CONFIG.len()];
    for p in params {
        let is_pattern = p.iter().any(|c| matches!(c, b'[' | b'*' | b'?'));
        for (i, (name, _)) in CONFIG.iter().enumerate() {
            if (is_pattern && glob_match(p, name.as_bytes(), true))
                || (!is_pattern && p.eq_ignore_ascii_case(name.as_bytes()))
            {
                hit[i] = true;
            }
        }
    }
    map_reply(
        protocol,
        CONFIG
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h)
            .map(|((k, v), _)| (bulk_static(k), bulk_static(v)))
            .collect(),
    )
}

/// `[kind, name or null, count]`: an array in RESP2, a push in RESP3.
fn pubsub_reply(protocol: u32, kind: &'static str, name: Option<Bytes>, n: usize) -> Value {
    push_or_array(
        protocol,
        vec![
            bulk_static(kind),
            name.map_or_else(|| null(protocol), blob),
            count(n),
        ],
    )
}

/// `message channel payload`, or `pmessage pattern channel payload`.
fn message(protocol: u32, pattern: Option<&Bytes>, channel: &Bytes, payload: &Bytes) -> Value {
    let items = match pattern {
        None => vec![
            bulk_static("message"),
            blob(channel.clone()),
            blob(payload.clone()),
        ],
        Some(p) => vec![
            bulk_static("pmessage"),
            blob(p.clone()),
            blob(channel.clone()),
            blob(payload.clone()),
        ],
    };
    push_or_array(protocol, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polywire_protocols::resp::Inline;
    use std::sync::atomic::AtomicBool;

    /// A subscriber keeping what it receives; `gone` makes it refuse.
    #[derive(Clone, Default)]
    struct Sink {
        got: Arc<Mutex<Vec<Value>>>,
        gone: Arc<AtomicBool>,
    }

    impl Subscriber for Sink {
        fn deliver(&self, v: Value) -> bool {
            if self.gone.load(Ordering::Relaxed) {
                return false;
            }
            self.got.lock().expect("sink").push(v);
            true
        }
    }

    impl Sink {
        fn take(&self) -> Vec<Value> {
            std::mem::take(&mut *self.got.lock().expect("sink"))
        }
    }

    fn setup() -> (Db<Sink>, Client<Sink>) {
        (Db::new(), Client::new(7, Sink::default()))
    }

    fn words(w: &[&str]) -> Vec<Bytes> {
        w.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    fn run(db: &Db<Sink>, c: &mut Client<Sink>, w: &[&str]) -> Reply {
        db.execute(c, &words(w))
    }

    /// The single answer to `w`.
    fn one(db: &Db<Sink>, c: &mut Client<Sink>, w: &[&str]) -> Value {
        let r = run(db, c, w);
        assert!(!r.close, "{w:?} closes");
        let [v] = <[Value; 1]>::try_from(r.values()).unwrap_or_else(|v| panic!("{w:?}: {v:?}"));
        v
    }

    fn ok() -> Value {
        simple("OK")
    }

    fn bulks(items: &[&str]) -> Value {
        array(items.iter().map(|s| bulk(s.as_bytes())).collect())
    }

    fn push(items: Vec<Value>) -> Value {
        Value::Push(Push { items })
    }

    fn ttl(db: &Db<Sink>, c: &mut Client<Sink>, cmd: &str, key: &str) -> i64 {
        match one(db, c, &[cmd, key]) {
            Value::Integer(Integer { value }) => value,
            other => panic!("{cmd}: {other:?}"),
        }
    }

    fn inline(line: &str) -> Result<Vec<Bytes>, String> {
        command_args(Command::Inline(Inline {
            line: Str::from(line),
        }))
    }

    fn inline_words(line: &str) -> Vec<Vec<u8>> {
        inline(line)
            .unwrap_or_else(|e| panic!("{line:?}: {e}"))
            .iter()
            .map(|b| b.to_vec())
            .collect()
    }

    #[test]
    fn ping_and_echo() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["PING"]), simple("PONG"));
        assert_eq!(one(&db, &mut c, &["ping", "hi"]), bulk(b"hi"));
        assert_eq!(
            one(&db, &mut c, &["PING", "a", "b"]),
            error("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(one(&db, &mut c, &["EcHo", "x y"]), bulk(b"x y"));
        assert_eq!(
            one(&db, &mut c, &["ECHO"]),
            error("ERR wrong number of arguments for 'echo' command")
        );
    }

    #[test]
    fn get_set_are_binary_safe_and_case_insensitive() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["GET", "k"]), null(2));
        let key = Bytes::from_static(b"k\x00\xff");
        let value = Bytes::from_static(b"a\r\nb\x00\xff");
        let r = db.execute(
            &mut c,
            &[Bytes::from_static(b"sEt"), key.clone(), value.clone()],
        );
        assert_eq!(r.values(), vec![ok()]);
        let r = db.execute(&mut c, &[Bytes::from_static(b"get"), key]);
        assert_eq!(r.values(), vec![blob(value)]);
        assert_eq!(one(&db, &mut c, &["SET", "k", "v1"]), ok());
        assert_eq!(one(&db, &mut c, &["SET", "k", "v2"]), ok());
        assert_eq!(one(&db, &mut c, &["GET", "k"]), bulk(b"v2"));
        assert_eq!(
            one(&db, &mut c, &["GET"]),
            error("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            one(&db, &mut c, &["GET", "a", "b"]),
            error("ERR wrong number of arguments for 'get' command")
        );
        one(&db, &mut c, &["HELLO", "3"]);
        assert_eq!(one(&db, &mut c, &["GET", "missing"]), Value::Null(Null {}));
    }

    #[test]
    fn set_options() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["SET", "k", "1", "XX"]), null(2));
        assert_eq!(one(&db, &mut c, &["GET", "k"]), null(2));
        assert_eq!(one(&db, &mut c, &["SET", "k", "1", "nx"]), ok());
        assert_eq!(one(&db, &mut c, &["SET", "k", "2", "NX"]), null(2));
        assert_eq!(one(&db, &mut c, &["SET", "k", "3", "XX"]), ok());
        assert_eq!(one(&db, &mut c, &["SET", "k", "4", "GET"]), bulk(b"3"));
        assert_eq!(one(&db, &mut c, &["SET", "new", "x", "GET"]), null(2));
        assert_eq!(one(&db, &mut c, &["GET", "new"]), bulk(b"x"));
        // NX with GET answers the old value and sets nothing.
        assert_eq!(
            one(&db, &mut c, &["SET", "k", "5", "NX", "GET"]),
            bulk(b"4")
        );
        assert_eq!(one(&db, &mut c, &["GET", "k"]), bulk(b"4"));
        // Expiries.
        assert_eq!(one(&db, &mut c, &["SET", "k", "v", "EX", "100"]), ok());
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), 100);
        assert_eq!(one(&db, &mut c, &["SET", "k", "v", "KEEPTTL"]), ok());
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), 100);
        assert_eq!(one(&db, &mut c, &["SET", "k", "v"]), ok());
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -1);
        assert_eq!(one(&db, &mut c, &["SET", "k", "v", "px", "50000"]), ok());
        let pttl = ttl(&db, &mut c, "PTTL", "k");
        assert!((49_000..=50_000).contains(&pttl), "{pttl}");
        let at = (unix_ms() / 1000 + 200).to_string();
        assert_eq!(one(&db, &mut c, &["SET", "k", "v", "EXAT", &at]), ok());
        let t = ttl(&db, &mut c, "TTL", "k");
        assert!((198..=200).contains(&t), "{t}");
        // A past absolute time leaves no key.
        assert_eq!(one(&db, &mut c, &["SET", "k", "v", "PXAT", "1"]), ok());
        assert_eq!(one(&db, &mut c, &["GET", "k"]), null(2));
        // Errors.
        for bad in [
            &["SET", "k", "v", "NX", "XX"][..],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "EX", "10", "PX", "10"],
            &["SET", "k", "v", "KEEPTTL", "EX", "10"],
            &["SET", "k", "v", "EX", "10", "KEEPTTL"],
            &["SET", "k", "v", "BOGUS"],
        ] {
            assert_eq!(one(&db, &mut c, bad), error("ERR syntax error"), "{bad:?}");
        }
        assert_eq!(
            one(&db, &mut c, &["SET", "k", "v", "EX", "0"]),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            one(&db, &mut c, &["SET", "k", "v", "PX", "-5"]),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            one(&db, &mut c, &["SET", "k", "v", "EX", "9223372036854775"]),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            one(&db, &mut c, &["SET", "k", "v", "EX", "ten"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            one(&db, &mut c, &["SET", "k"]),
            error("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn del_exists_mget_mset() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["MSET", "a", "1", "b", "2"]), ok());
        assert_eq!(
            one(&db, &mut c, &["MSET", "a", "1", "b"]),
            error("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            one(&db, &mut c, &["MGET", "a", "x", "b"]),
            array(vec![bulk(b"1"), null(2), bulk(b"2")])
        );
        assert_eq!(one(&db, &mut c, &["EXISTS", "a", "a", "x"]), int(2));
        assert_eq!(one(&db, &mut c, &["DEL", "a", "x", "a"]), int(1));
        assert_eq!(one(&db, &mut c, &["EXISTS", "a", "b"]), int(1));
        assert_eq!(
            one(&db, &mut c, &["DEL"]),
            error("ERR wrong number of arguments for 'del' command")
        );
        one(&db, &mut c, &["HELLO", "3"]);
        assert_eq!(
            one(&db, &mut c, &["MGET", "x"]),
            array(vec![Value::Null(Null {})])
        );
    }

    #[test]
    fn incr_family() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["INCR", "n"]), int(1));
        assert_eq!(one(&db, &mut c, &["INCRBY", "n", "41"]), int(42));
        assert_eq!(one(&db, &mut c, &["DECR", "n"]), int(41));
        assert_eq!(one(&db, &mut c, &["DECRBY", "n", "50"]), int(-9));
        assert_eq!(one(&db, &mut c, &["GET", "n"]), bulk(b"-9"));
        assert_eq!(one(&db, &mut c, &["DECRBY", "m", "3"]), int(-3));
        let not_int = error("ERR value is not an integer or out of range");
        for v in [
            "x",
            " 1",
            "+1",
            "01",
            "-0",
            "1.5",
            "",
            "9223372036854775808",
        ] {
            one(&db, &mut c, &["SET", "s", v]);
            assert_eq!(one(&db, &mut c, &["INCR", "s"]), not_int, "{v:?}");
        }
        assert_eq!(one(&db, &mut c, &["INCRBY", "n", "a"]), not_int);
        one(&db, &mut c, &["SET", "big", "9223372036854775807"]);
        assert_eq!(
            one(&db, &mut c, &["INCR", "big"]),
            error("ERR increment or decrement would overflow")
        );
        one(&db, &mut c, &["SET", "small", "-9223372036854775808"]);
        assert_eq!(
            one(&db, &mut c, &["DECR", "small"]),
            error("ERR increment or decrement would overflow")
        );
        assert_eq!(
            one(&db, &mut c, &["DECRBY", "n", "-9223372036854775808"]),
            error("ERR decrement would overflow")
        );
        assert_eq!(
            one(&db, &mut c, &["INCRBY", "n", "-9223372036854775808"]),
            error("ERR increment or decrement would overflow")
        );
        one(&db, &mut c, &["SET", "z", "5"]);
        assert_eq!(
            one(&db, &mut c, &["INCRBY", "z", "-9223372036854775808"]),
            int(i64::MIN + 5)
        );
        // INCR keeps the expiry.
        one(&db, &mut c, &["SET", "t", "1", "EX", "100"]);
        assert_eq!(one(&db, &mut c, &["INCR", "t"]), int(2));
        assert_eq!(ttl(&db, &mut c, "TTL", "t"), 100);
        assert_eq!(
            one(&db, &mut c, &["INCR"]),
            error("ERR wrong number of arguments for 'incr' command")
        );
    }

    #[test]
    fn parse_i64_is_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"00",
            b"-0",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn expiry_and_ttl() {
        let (db, mut c) = setup();
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -2);
        assert_eq!(ttl(&db, &mut c, "PTTL", "k"), -2);
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "10"]), int(0));
        one(&db, &mut c, &["SET", "k", "v"]);
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -1);
        assert_eq!(ttl(&db, &mut c, "PTTL", "k"), -1);
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "10"]), int(1));
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), 10);
        assert_eq!(one(&db, &mut c, &["PERSIST", "k"]), int(1));
        assert_eq!(one(&db, &mut c, &["PERSIST", "k"]), int(0));
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -1);
        // NX / XX / GT / LT.
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "10", "XX"]), int(0));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "10", "GT"]), int(0));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "10", "NX"]), int(1));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "20", "NX"]), int(0));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "5", "GT"]), int(0));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "20", "gt"]), int(1));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "30", "LT"]), int(0));
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "15", "LT", "XX"]), int(1));
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), 15);
        assert_eq!(
            one(&db, &mut c, &["EXPIRE", "k", "1", "NX", "XX"]),
            error("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            one(&db, &mut c, &["EXPIRE", "k", "1", "GT", "LT"]),
            error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            one(&db, &mut c, &["EXPIRE", "k", "1", "YY"]),
            error("ERR Unsupported option YY")
        );
        assert_eq!(
            one(&db, &mut c, &["EXPIRE", "k", "soon"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(
            one(&db, &mut c, &["EXPIRE", "k", "9223372036854775807"]),
            error("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            one(&db, &mut c, &["PEXPIRE", "k", "9223372036854775807"]),
            error("ERR invalid expire time in 'pexpire' command")
        );
        // Absolute times.
        let at = (unix_ms() / 1000 + 300).to_string();
        assert_eq!(one(&db, &mut c, &["EXPIREAT", "k", &at]), int(1));
        let t = ttl(&db, &mut c, "TTL", "k");
        assert!((298..=300).contains(&t), "{t}");
        // A time in the past deletes the key.
        assert_eq!(one(&db, &mut c, &["EXPIRE", "k", "-1"]), int(1));
        assert_eq!(one(&db, &mut c, &["EXISTS", "k"]), int(0));
        // Lazy expiry.
        one(&db, &mut c, &["SET", "k", "v"]);
        one(&db, &mut c, &["SET", "other", "v"]);
        assert_eq!(one(&db, &mut c, &["PEXPIRE", "k", "1"]), int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(one(&db, &mut c, &["GET", "k"]), null(2));
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -2);
        assert_eq!(one(&db, &mut c, &["DBSIZE"]), int(1));
        // Every command sees an expired key as missing.
        for cmd in [
            &["EXISTS", "k"][..],
            &["DEL", "k"],
            &["EXPIRE", "k", "10"],
            &["PERSIST", "k"],
        ] {
            one(&db, &mut c, &["SET", "k", "5", "PX", "1"]);
            std::thread::sleep(Duration::from_millis(5));
            assert_eq!(one(&db, &mut c, cmd), int(0), "{cmd:?}");
        }
        one(&db, &mut c, &["SET", "k", "5", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(one(&db, &mut c, &["INCR", "k"]), int(1));
        assert_eq!(ttl(&db, &mut c, "TTL", "k"), -1);
        one(&db, &mut c, &["SET", "k", "5", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(one(&db, &mut c, &["SET", "k", "6", "NX"]), ok());
        let Value::Array(Array {
            items: Some(mut items),
        }) = one(&db, &mut c, &["KEYS", "*"])
        else {
            panic!("KEYS answers an array")
        };
        items.sort_by_key(|v| format!("{v:?}"));
        assert_eq!(items, vec![bulk(b"k"), bulk(b"other")]);
    }

    #[test]
    fn glob_patterns() {
        let yes = [
            ("*", "anything"),
            ("h?llo", "hello"),
            ("h*llo", "heeeello"),
            ("h*llo", "hllo"),
            ("h[ae]llo", "hallo"),
            ("h[^e]llo", "hallo"),
            ("h[a-b]llo", "hbllo"),
            ("h[b-a]llo", "hallo"),
            ("a\\*b", "a*b"),
            ("[\\]]", "]"),
            ("*.*", "a.b"),
            ("a**b", "ab"),
            ("news.*", "news.art"),
            ("[abc", "a"),
            ("a\\", "a\\"),
        ];
        for (p, s) in yes {
            assert!(glob_match(p.as_bytes(), s.as_bytes(), false), "{p} ~ {s}");
        }
        let no = [
            ("h?llo", "hllo"),
            ("h[ae]llo", "hillo"),
            ("h[^e]llo", "hello"),
            ("h[a-b]llo", "hcllo"),
            ("a\\*b", "axb"),
            ("news.*", "news"),
            ("a*", ""),
            // As in Redis, nothing matches the empty string, not even `*`.
            ("*", ""),
            ("?", ""),
            ("abc", "ab"),
            ("ab", "abc"),
            ("HELLO", "hello"),
        ];
        for (p, s) in no {
            assert!(!glob_match(p.as_bytes(), s.as_bytes(), false), "{p} !~ {s}");
        }
        assert!(glob_match(b"HEL*", b"hello", true));
        assert!(glob_match(b"[A-C]x", b"bx", true));
        // Abusive patterns end.
        let long = "a".repeat(60);
        assert!(!glob_match(
            "*a*a*a*a*a*a*a*a*a*a*a*a*b".as_bytes(),
            long.as_bytes(),
            false
        ));
    }

    #[test]
    fn keys_dbsize_and_flush() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["KEYS", "*"]), array(vec![]));
        one(
            &db,
            &mut c,
            &["MSET", "hello", "1", "hallo", "2", "world", "3"],
        );
        let Value::Array(Array {
            items: Some(mut items),
        }) = one(&db, &mut c, &["KEYS", "h[a-e]llo"])
        else {
            panic!("KEYS answers an array")
        };
        items.sort_by_key(|v| format!("{v:?}"));
        assert_eq!(items, vec![bulk(b"hallo"), bulk(b"hello")]);
        assert_eq!(one(&db, &mut c, &["KEYS", "w*"]), bulks(&["world"]));
        assert_eq!(one(&db, &mut c, &["DBSIZE"]), int(3));
        assert_eq!(
            one(&db, &mut c, &["DBSIZE", "x"]),
            error("ERR wrong number of arguments for 'dbsize' command")
        );
        assert_eq!(
            one(&db, &mut c, &["FLUSHDB", "NOW"]),
            error("ERR syntax error")
        );
        assert_eq!(
            one(&db, &mut c, &["FLUSHDB", "SYNC", "x"]),
            error("ERR syntax error")
        );
        assert_eq!(one(&db, &mut c, &["DBSIZE"]), int(3));
        assert_eq!(one(&db, &mut c, &["FLUSHDB"]), ok());
        assert_eq!(one(&db, &mut c, &["DBSIZE"]), int(0));
        one(&db, &mut c, &["SET", "a", "b"]);
        assert_eq!(one(&db, &mut c, &["FLUSHALL", "async"]), ok());
        assert_eq!(one(&db, &mut c, &["GET", "a"]), null(2));
    }

    #[test]
    fn select() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["SELECT", "0"]), ok());
        assert_eq!(
            one(&db, &mut c, &["SELECT", "1"]),
            error("ERR DB index is out of range")
        );
        assert_eq!(
            one(&db, &mut c, &["SELECT", "x"]),
            error("ERR invalid DB index")
        );
        assert_eq!(
            one(&db, &mut c, &["SELECT", "99999999999"]),
            error("ERR invalid DB index")
        );
    }

    fn hello_pairs(protocol: i64, id: i64) -> Vec<(Value, Value)> {
        vec![
            (bulk(b"server"), bulk(b"redis")),
            (bulk(b"version"), bulk(b"7.0.15")),
            (bulk(b"proto"), int(protocol)),
            (bulk(b"id"), int(id)),
            (bulk(b"mode"), bulk(b"standalone")),
            (bulk(b"role"), bulk(b"master")),
            (bulk(b"modules"), array(vec![])),
        ]
    }

    #[test]
    fn hello_switches_protocol() {
        let (db, mut c) = setup();
        assert_eq!(c.protocol(), 2);
        assert_eq!(c.id(), 7);
        let flat: Vec<Value> = hello_pairs(2, 7)
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .collect();
        assert_eq!(one(&db, &mut c, &["HELLO"]), array(flat.clone()));
        assert_eq!(one(&db, &mut c, &["HELLO", "2"]), array(flat));
        assert_eq!(
            one(&db, &mut c, &["HELLO", "4"]),
            error("NOPROTO unsupported protocol version")
        );
        assert_eq!(
            one(&db, &mut c, &["HELLO", "x"]),
            error("ERR Protocol version is not an integer or out of range")
        );
        assert_eq!(
            one(&db, &mut c, &["HELLO", "3", "BOGUS"]),
            error("ERR Syntax error in HELLO option 'BOGUS'")
        );
        assert_eq!(
            one(&db, &mut c, &["HELLO", "3", "AUTH", "alice", "pw"]),
            error("WRONGPASS invalid username-password pair or user is disabled.")
        );
        assert_eq!(
            one(&db, &mut c, &["HELLO", "3", "SETNAME", "bad name"]),
            error("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(c.protocol(), 2, "failed HELLOs switch nothing");
        let map = Value::Map(Map {
            entries: hello_pairs(3, 7)
                .into_iter()
                .map(|(key, value)| Pair { key, value })
                .collect(),
        });
        assert_eq!(
            one(
                &db,
                &mut c,
                &["hello", "3", "auth", "default", "pw", "setname", "cli"]
            ),
            map
        );
        assert_eq!(c.protocol(), 3);
        assert_eq!(one(&db, &mut c, &["CLIENT", "GETNAME"]), bulk(b"cli"));
        assert_eq!(one(&db, &mut c, &["HELLO"]), map);
        assert_eq!(one(&db, &mut c, &["GET", "x"]), Value::Null(Null {}));
        one(&db, &mut c, &["HELLO", "2"]);
        assert_eq!(c.protocol(), 2);
    }

    #[test]
    fn auth() {
        let (db, mut c) = setup();
        assert!(matches!(
            one(&db, &mut c, &["AUTH", "pw"]),
            Value::SimpleError(e) if e.text.starts_with("ERR AUTH <password> called without")
        ));
        assert_eq!(one(&db, &mut c, &["AUTH", "default", "pw"]), ok());
        assert_eq!(
            one(&db, &mut c, &["AUTH", "bob", "pw"]),
            error("WRONGPASS invalid username-password pair or user is disabled.")
        );
        assert_eq!(
            one(&db, &mut c, &["AUTH", "a", "b", "c"]),
            error("ERR syntax error")
        );
    }

    #[test]
    fn client_commands() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["CLIENT", "ID"]), int(7));
        assert_eq!(one(&db, &mut c, &["CLIENT", "GETNAME"]), null(2));
        assert_eq!(one(&db, &mut c, &["client", "setname", "app-1"]), ok());
        assert_eq!(one(&db, &mut c, &["CLIENT", "GETNAME"]), bulk(b"app-1"));
        assert_eq!(c.name().map(|n| n.to_vec()), Some(b"app-1".to_vec()));
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETNAME", "a b"]),
            error("ERR Client names cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(one(&db, &mut c, &["CLIENT", "SETNAME", ""]), ok());
        assert_eq!(one(&db, &mut c, &["CLIENT", "GETNAME"]), null(2));
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]),
            ok()
        );
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETINFO", "lib-ver", "5.0.1"]),
            ok()
        );
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETINFO", "color", "red"]),
            error("ERR Unrecognized option 'color'")
        );
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETINFO", "lib-name", "a b"]),
            error("ERR lib-name cannot contain spaces, newlines or special characters.")
        );
        assert_eq!(
            one(&db, &mut c, &["CLIENT", "SETNAME"]),
            error("ERR wrong number of arguments for 'client|setname' command")
        );
        assert_eq!(
            one(&db, &mut c, &["CLIENT"]),
            error("ERR wrong number of arguments for 'client' command")
        );
        assert_eq!(
            one(&db, &mut c, &["client", "Fly"]),
            error("ERR unknown subcommand 'Fly'. Try CLIENT HELP.")
        );
    }

    #[test]
    fn unknown_commands() {
        let (db, mut c) = setup();
        assert_eq!(
            one(&db, &mut c, &["FOO"]),
            error("ERR unknown command 'FOO', with args beginning with: ")
        );
        assert_eq!(
            one(&db, &mut c, &["foo", "a", "b c"]),
            error("ERR unknown command 'foo', with args beginning with: 'a' 'b c' ")
        );
        // Newlines never reach the error line.
        assert_eq!(
            one(&db, &mut c, &["x\r\ny", "1\n"]),
            error("ERR unknown command 'x  y', with args beginning with: '1 ' ")
        );
        // No words, no answer.
        assert_eq!(db.execute(&mut c, &[]), Reply::default());
    }

    #[test]
    fn server_commands() {
        let (db, mut c) = setup();
        assert_eq!(one(&db, &mut c, &["COMMAND"]), array(vec![]));
        assert_eq!(one(&db, &mut c, &["COMMAND", "DOCS"]), array(vec![]));
        assert_eq!(
            one(&db, &mut c, &["COMMAND", "COUNT"]),
            count(COMMANDS.len())
        );
        assert_eq!(
            one(&db, &mut c, &["COMMAND", "NOPE"]),
            error("ERR unknown subcommand 'NOPE'. Try COMMAND HELP.")
        );
        assert_eq!(
            one(&db, &mut c, &["CONFIG", "GET", "save"]),
            bulks(&["save", ""])
        );
        assert_eq!(
            one(
                &db,
                &mut c,
                &["CONFIG", "GET", "APPENDONLY", "save", "nope"]
            ),
            bulks(&["appendonly", "no", "save", ""])
        );
        assert_eq!(
            one(&db, &mut c, &["CONFIG", "GET", "Time*", "*s*e"]),
            bulks(&["save", "", "timeout", "0"])
        );
        assert_eq!(
            one(&db, &mut c, &["CONFIG", "GET"]),
            error("ERR wrong number of arguments for 'config|get' command")
        );
        let Value::BulkString(BulkString { data: Some(info) }) = one(&db, &mut c, &["INFO"]) else {
            panic!("INFO answers a bulk string in RESP2")
        };
        let info = String::from_utf8(info.to_vec()).expect("text");
        assert!(
            info.starts_with("# Server\r\nredis_version:7.0.15\r\n"),
            "{info}"
        );
        for line in [
            "redis_mode:standalone\r\n",
            "# Replication\r\nrole:master\r\n",
        ] {
            assert!(info.contains(line), "{line:?} in {info}");
        }
        assert!(!info.contains("db0:"), "{info}");
        one(&db, &mut c, &["SET", "k", "v", "EX", "100"]);
        one(&db, &mut c, &["HELLO", "3"]);
        let Value::VerbatimString(VerbatimString { data }) =
            one(&db, &mut c, &["INFO", "keyspace"])
        else {
            panic!("INFO answers a verbatim string in RESP3")
        };
        assert_eq!(
            &data[..],
            b"txt:# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\n"
        );
        assert_eq!(
            one(&db, &mut c, &["CONFIG", "GET", "save"]),
            Value::Map(Map {
                entries: vec![Pair {
                    key: bulk(b"save"),
                    value: bulk(b""),
                }],
            })
        );
        assert_eq!(
            one(&db, &mut c, &["COMMAND", "DOCS", "get"]),
            Value::Map(Map { entries: vec![] })
        );
    }

    #[test]
    fn quit_closes() {
        let (db, mut c) = setup();
        let r = run(&db, &mut c, &["QUIT"]);
        assert!(r.close);
        assert_eq!(r.values(), vec![ok()]);
        assert!(!run(&db, &mut c, &["PING"]).close);
    }

    #[test]
    fn subscribe_and_publish_resp2() {
        let db = Db::new();
        let sink = Sink::default();
        let mut sub = Client::new(1, sink.clone());
        let mut publisher = Client::new(2, Sink::default());
        let r = run(&db, &mut sub, &["SUBSCRIBE", "a", "b", "a"]);
        assert_eq!(
            r.values(),
            vec![
                array(vec![bulk(b"subscribe"), bulk(b"a"), int(1)]),
                array(vec![bulk(b"subscribe"), bulk(b"b"), int(2)]),
                array(vec![bulk(b"subscribe"), bulk(b"a"), int(2)]),
            ]
        );
        assert_eq!(sub.subscriptions(), 2);
        // Subscribed in RESP2: only the pub/sub commands, PING, QUIT and RESET.
        assert_eq!(
            one(&db, &mut sub, &["GET", "x"]),
            error(
                "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            )
        );
        assert_eq!(
            one(&db, &mut sub, &["CLIENT", "ID"]),
            error(
                "ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            )
        );
        assert_eq!(
            one(&db, &mut sub, &["PING"]),
            array(vec![bulk(b"pong"), bulk(b"")])
        );
        assert_eq!(
            one(&db, &mut sub, &["PING", "x"]),
            array(vec![bulk(b"pong"), bulk(b"x")])
        );
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "a", "hi"]), int(1));
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "zzz", "hi"]), int(0));
        assert_eq!(
            sink.take(),
            vec![array(vec![bulk(b"message"), bulk(b"a"), bulk(b"hi")])]
        );
        let r = run(&db, &mut sub, &["PSUBSCRIBE", "n*"]);
        assert_eq!(
            r.values(),
            vec![array(vec![bulk(b"psubscribe"), bulk(b"n*"), int(3)])]
        );
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "news", "x"]), int(1));
        assert_eq!(
            sink.take(),
            vec![array(vec![
                bulk(b"pmessage"),
                bulk(b"n*"),
                bulk(b"news"),
                bulk(b"x")
            ])]
        );
        // Unsubscribing from everything, one answer a channel.
        let r = run(&db, &mut sub, &["UNSUBSCRIBE"]);
        assert_eq!(
            r.values(),
            vec![
                array(vec![bulk(b"unsubscribe"), bulk(b"a"), int(2)]),
                array(vec![bulk(b"unsubscribe"), bulk(b"b"), int(1)]),
            ]
        );
        assert_eq!(
            run(&db, &mut sub, &["UNSUBSCRIBE"]).values(),
            vec![array(vec![bulk(b"unsubscribe"), null(2), int(1)])]
        );
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "a", "hi"]), int(0));
        assert_eq!(
            run(&db, &mut sub, &["PUNSUBSCRIBE", "n*", "other"]).values(),
            vec![
                array(vec![bulk(b"punsubscribe"), bulk(b"n*"), int(0)]),
                array(vec![bulk(b"punsubscribe"), bulk(b"other"), int(0)]),
            ]
        );
        // Out of subscribe mode: every command again.
        assert_eq!(one(&db, &mut sub, &["GET", "x"]), null(2));
        assert_eq!(one(&db, &mut sub, &["PING"]), simple("PONG"));
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "news", "x"]), int(0));
        assert!(sink.take().is_empty());
        assert_eq!(
            one(&db, &mut sub, &["SUBSCRIBE"]),
            error("ERR wrong number of arguments for 'subscribe' command")
        );
    }

    #[test]
    fn subscribe_and_publish_resp3() {
        let db = Db::new();
        let (s3, s2) = (Sink::default(), Sink::default());
        let mut c3 = Client::new(1, s3.clone());
        let mut c2 = Client::new(2, s2.clone());
        let mut publisher = Client::new(3, Sink::default());
        one(&db, &mut c3, &["HELLO", "3"]);
        assert_eq!(
            run(&db, &mut c3, &["SUBSCRIBE", "ch"]).values(),
            vec![push(vec![bulk(b"subscribe"), bulk(b"ch"), int(1)])]
        );
        assert_eq!(
            run(&db, &mut c3, &["PSUBSCRIBE", "c?"]).values(),
            vec![push(vec![bulk(b"psubscribe"), bulk(b"c?"), int(2)])]
        );
        run(&db, &mut c2, &["SUBSCRIBE", "ch"]);
        // RESP3 subscribers may run any command.
        assert_eq!(one(&db, &mut c3, &["SET", "k", "v"]), ok());
        assert_eq!(one(&db, &mut c3, &["PING"]), simple("PONG"));
        // Each subscriber gets the message in its protocol; a pattern match counts again.
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "ch", "p"]), int(3));
        let mut got = s3.take();
        got.sort_by_key(|v| format!("{v:?}"));
        assert_eq!(
            got,
            vec![
                push(vec![bulk(b"message"), bulk(b"ch"), bulk(b"p")]),
                push(vec![
                    bulk(b"pmessage"),
                    bulk(b"c?"),
                    bulk(b"ch"),
                    bulk(b"p")
                ]),
            ]
        );
        assert_eq!(
            s2.take(),
            vec![array(vec![bulk(b"message"), bulk(b"ch"), bulk(b"p")])]
        );
        // A subscriber that is gone is not counted.
        s2.gone.store(true, Ordering::Relaxed);
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "ch", "q"]), int(2));
        // Switching back to RESP2 while subscribed: messages follow.
        one(&db, &mut c3, &["HELLO", "2"]);
        s3.take();
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "cx", "r"]), int(1));
        assert_eq!(
            s3.take(),
            vec![array(vec![
                bulk(b"pmessage"),
                bulk(b"c?"),
                bulk(b"cx"),
                bulk(b"r")
            ])]
        );
        // A connection that ends leaves no subscription behind.
        db.disconnect(&mut c3);
        assert_eq!(c3.subscriptions(), 0);
        db.disconnect(&mut c2);
        assert_eq!(one(&db, &mut publisher, &["PUBLISH", "ch", "s"]), int(0));
        assert!(s3.take().is_empty());
        let Value::BulkString(BulkString { data: Some(info) }) =
            one(&db, &mut publisher, &["INFO", "stats"])
        else {
            panic!("INFO")
        };
        assert_eq!(
            &info[..],
            b"# Stats\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
        );
    }

    #[test]
    fn reset() {
        let (db, mut c) = setup();
        one(&db, &mut c, &["HELLO", "3", "SETNAME", "n"]);
        run(&db, &mut c, &["SUBSCRIBE", "a"]);
        assert_eq!(one(&db, &mut c, &["RESET"]), simple("RESET"));
        assert_eq!(c.protocol(), 2);
        assert_eq!(c.subscriptions(), 0);
        assert_eq!(c.name(), None);
        let mut p = Client::new(9, Sink::default());
        assert_eq!(one(&db, &mut p, &["PUBLISH", "a", "x"]), int(0));
    }

    #[test]
    fn array_commands() {
        let cmd = |items: Vec<Value>| command_args(Command::Array(Array { items: Some(items) }));
        assert_eq!(
            cmd(vec![bulk(b"GET"), bulk(b"k")]),
            Ok(vec![Bytes::from_static(b"GET"), Bytes::from_static(b"k")])
        );
        assert_eq!(
            cmd(vec![bulk(b"GET"), int(1)]),
            Err("Protocol error: expected '$', got ':'".to_string())
        );
        assert_eq!(
            cmd(vec![array(vec![])]),
            Err("Protocol error: expected '$', got '*'".to_string())
        );
        assert_eq!(
            cmd(vec![null(2)]),
            Err("Protocol error: invalid bulk length".to_string())
        );
        assert_eq!(cmd(vec![]), Ok(vec![]));
        assert_eq!(
            command_args(Command::Array(Array { items: None })),
            Ok(vec![])
        );
    }

    #[test]
    fn inline_commands() {
        let w = |s: &str| s.as_bytes().to_vec();
        assert_eq!(inline_words(""), Vec::<Vec<u8>>::new());
        assert_eq!(inline_words("   "), Vec::<Vec<u8>>::new());
        assert_eq!(inline_words("PING"), vec![w("PING")]);
        assert_eq!(inline_words("  set  k\tv "), vec![w("set"), w("k"), w("v")]);
        assert_eq!(
            inline_words(r#"set "a b" "x\n\r\t\b\a\\\"\x41\xzz""#),
            vec![w("set"), w("a b"), b"x\n\r\t\x08\x07\\\"Axzz".to_vec()]
        );
        assert_eq!(
            inline_words(r"set 'it\'s' 'a\nb'"),
            vec![w("set"), w("it's"), w("a\\nb")]
        );
        assert_eq!(
            inline_words(r#"a"b c"d"#.replace('d', "").as_str()),
            vec![w("ab c")]
        );
        assert_eq!(inline_words(r#"x "" ''"#), vec![w("x"), w(""), w("")]);
        let unbalanced = Err("Protocol error: unbalanced quotes in request".to_string());
        for bad in [
            r#"set "a"#,
            "set 'a",
            r#"set "a"b"#,
            "set 'a'b",
            r#"set "a\"#,
        ] {
            assert_eq!(inline(bad), unbalanced, "{bad:?}");
        }
        // Executed like any other command.
        let (db, mut c) = setup();
        let args = inline(r#"SET "my key" 'v 1'"#).expect("splits");
        assert_eq!(db.execute(&mut c, &args).values(), vec![ok()]);
        assert_eq!(one(&db, &mut c, &["GET", "my key"]), bulk(b"v 1"));
        assert_eq!(
            db.execute(&mut c, &inline("").expect("empty")).values(),
            vec![]
        );
    }

    #[test]
    fn db_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Db<Sink>>();
        let db = Arc::new(Db::<Sink>::default());
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let db = Arc::clone(&db);
                std::thread::spawn(move || {
                    let mut c = Client::new(i, Sink::default());
                    for _ in 0..100 {
                        db.execute(&mut c, &words(&["INCR", "n"]));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let mut c = Client::new(9, Sink::default());
        assert_eq!(one(&db, &mut c, &["GET", "n"]), bulk(b"400"));
    }

    #[test]
    fn helpers() {
        assert_eq!(null(2), Value::BulkString(BulkString { data: None }));
        assert_eq!(null(3), Value::Null(Null {}));
        assert_eq!(null_array(2), Value::Array(Array { items: None }));
        assert_eq!(null_array(3), Value::Null(Null {}));
        assert_eq!(
            error("ERR x"),
            Value::SimpleError(SimpleError {
                text: Str::from("ERR x")
            })
        );
        assert_eq!(int(-3), Value::Integer(Integer { value: -3 }));
    }
}
