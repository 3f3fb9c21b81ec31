//! Sans-IO message exchange: what a protocol's `exchange { .. }` block declares, carried
//! out for one connection.
//!
//! A [`MessageSession`] takes the bytes a connection received and the time, and gives back
//! [`Incoming`] events and the bytes to write. It knows, from the [`Exchange`] the generated
//! code implements, which message answers which, and carries that out so that handlers only
//! supply the answers' contents:
//!
//! - the hello opens the connection (once; anything else first is a violation), and its
//!   `@version` sets the version of everything after it;
//! - answers find their requests by a correlation field (the session picks the values of
//!   what it sends, never 0, never one in use) or by order, and the answers it sends leave in
//!   the order of their requests where matching is by order;
//! - a chain (`A -> B`, then `B -> C` from the other side) keeps the first request's
//!   [`Ticket`] until a message that needs no answer ends it;
//! - a series (`A -> Item* then End`) is any number of items under the request's
//!   correlation value or place in line, then the end; items of the first answer in line
//!   leave as they are given, the ones behind wait with it;
//! - keepalive: a side closes a connection silent for the grace period; a client sends the
//!   ping when it has sent nothing for an interval.
//!
//! No I/O and no clock: the driver passes `now` in and asks [`MessageSession::deadline`]
//! when to call [`MessageSession::tick`] next.

use crate::codec::{Codec, SessionCodec};
use crate::error::{DecodeError, EncodeError};
use crate::protocol::Detector;
use crate::wire::Sender;
use bytes::BytesMut;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// What answers a message, once its rule's conditions are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing.
    Nothing,
    /// One message: the member index.
    One(usize),
    /// One message (the member index), then the connection closes.
    OneThenClose(usize),
    /// The connection closes; nothing is sent.
    Close,
    /// One message (the member index), sent only when it reports a failure (`failure`) or
    /// a success; the requester does not wait for it.
    Only {
        /// The member that answers.
        member: usize,
        /// Sent on failure (else on success).
        failure: bool,
    },
    /// Any number of `item` messages, then `end`, which ends the answer (member indexes).
    Series {
        /// The repeated member.
        item: usize,
        /// The member that ends the series.
        end: usize,
    },
}

impl Expect {
    /// The member that ends the answer, if one does (a series' end).
    pub fn member(self) -> Option<usize> {
        match self {
            Expect::One(m)
            | Expect::OneThenClose(m)
            | Expect::Series { end: m, .. }
            | Expect::Only { member: m, .. } => Some(m),
            _ => None,
        }
    }

    /// The member a series repeats before its end.
    pub fn item(self) -> Option<usize> {
        match self {
            Expect::Series { item, .. } => Some(item),
            _ => None,
        }
    }
}

/// A protocol's `exchange` block: what a [`MessageSession`] needs to carry it out.
///
/// Instance-level, so that a protocol loaded at run time can implement it over values it
/// holds (cloned into each connection's session). Generated code implements it for a unit
/// struct (`RespExchange`), whose methods
/// read the protocol's constants and tables: a session holding one is no larger, and its
/// calls compile to what calls of static functions do.
pub trait Exchange: Clone + Send + Sync + 'static {
    /// The frame: the union of every message.
    type Msg: Clone + fmt::Debug + Send + Sync + 'static;
    /// The codec of the frame (generated code: `FramedCodec<Msg>`).
    type Codec: SessionCodec<Frame = Self::Msg>;

    /// A codec with the protocol's declared limits.
    fn codec(&self) -> Self::Codec;
    /// The protocol id.
    fn id(&self) -> &'static str;
    /// The protocol's detector of its first bytes (`None` when it declares no detection
    /// rules).
    fn detector(&self) -> Option<&dyn Detector> {
        None
    }
    /// The name of member `member` (a member index).
    fn member_name(&self, member: usize) -> &'static str;
    /// The hello's member index (`None`: connections need no hello).
    fn hello(&self) -> Option<usize>;
    /// Whether answers are matched by a correlation field (else by order).
    fn correlated(&self) -> bool;
    /// The largest correlation value (the field's type's maximum).
    fn max_correlation(&self) -> u64;
    /// Thousandths of the keepalive interval a connection may stay silent.
    fn grace_permille(&self) -> u32;
    /// The versions the protocol speaks, inclusive (`None`: it declares none).
    fn versions(&self) -> Option<(u32, u32)>;

    /// The member index of `m`.
    fn member(&self, m: &Self::Msg) -> usize;
    /// The name of `m`'s member.
    fn name_of(&self, m: &Self::Msg) -> &'static str {
        self.member_name(self.member(m))
    }
    /// The side that sends member `member`, when only one does (a frame union of the two
    /// directions, `Command from client`); `None` when both may.
    fn sender(&self, member: usize) -> Option<Sender> {
        let _ = member;
        None
    }
    /// What answers `m` under `version` (its rule, conditions evaluated; `Nothing` when it
    /// has no rule).
    fn expects(&self, m: &Self::Msg, version: u32) -> Expect;
    /// Whether member `member` has a rule (is a request of some kind, or closes).
    fn has_rule(&self, member: usize) -> bool;
    /// Whether member `member` may be sent unasked.
    fn pushable(&self, member: usize) -> bool;
    /// Whether `m` is always sent unasked, never an answer, by its content: a `push` line
    /// naming a member of one direction's union (RESP3's `>` values), which a receiver
    /// hands on as a push even while an answer is due.
    fn out_of_band(&self, m: &Self::Msg) -> bool {
        let _ = m;
        false
    }
    /// Whether member `member` answers only on failure or on success (`Msg on failure`):
    /// nobody waits for it, so a client hands it on as it comes.
    fn unawaited(&self, member: usize) -> bool {
        let _ = member;
        false
    }
    /// The correlation value `m` holds (`None` when its member has no correlation field, or
    /// the field is absent under its condition).
    fn correlation(&self, m: &Self::Msg) -> Option<u64>;
    /// Whether `m` takes a correlation value (its member has the field and the field's
    /// condition holds).
    fn takes_correlation(&self, m: &Self::Msg) -> bool;
    /// Sets `m`'s correlation value (nothing when it takes none).
    fn set_correlation(&self, m: &mut Self::Msg, id: u64);
    /// The version a hello sets (its `@version` field).
    fn hello_version(&self, m: &Self::Msg) -> Option<u32>;
    /// The keepalive interval a hello asks for (`None`: off).
    fn keepalive(&self, m: &Self::Msg) -> Option<Duration>;
    /// The ping a client sends when idle, if the protocol has a keepalive.
    fn ping(&self) -> Option<Self::Msg>;
    /// What a side sends before it closes a connection on `failure` under `version` (the
    /// block's `on` lines); `detail` says what went wrong (a decode error's text), for a
    /// string that holds `{error}`.
    fn farewell(&self, failure: Failure, version: u32, detail: &str) -> Option<Self::Msg>;
    /// Whether the hello's answer `answer` accepts the hello (`accept if`; true when the
    /// block says nothing).
    fn accepted(&self, answer: &Self::Msg) -> bool;
    /// Sets the version a hello offers (its `@version` field).
    fn set_hello_version(&self, hello: &mut Self::Msg, version: u32);
    /// The failure `answer` reports (`None`: it succeeded, or its message has no `status`
    /// line).
    fn failure(&self, answer: &Self::Msg) -> Option<Status>;
    /// Makes `answer` report `status` (its status field and message); false when its
    /// message has no `status` line.
    fn set_failure(&self, answer: &mut Self::Msg, status: &Status) -> bool;
    /// Fills the optional fields of `m` that its layout needs under `version` and that are
    /// absent (a field `if @version >= 5` left `None`) with their defaults; what the session
    /// does before it encodes a message.
    fn complete(&self, m: &mut Self::Msg, version: u32);
    /// A message of member `member` with every field at its default and the correlation
    /// value `correlation` (when it takes one).
    fn blank(&self, member: usize, correlation: Option<u64>) -> Self::Msg;
    /// The answer of member `answer` to `request` with every field at its default (the
    /// correlation value copied): what is sent when a handler has nothing to add.
    fn default_answer(&self, request: &Self::Msg, answer: usize) -> Self::Msg {
        self.blank(answer, self.correlation(request))
    }
}

/// A failure an answer reports through its status field (the block's `status` lines): the
/// value, and the message the answer carries, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The status field's value (an enum's wire value).
    pub code: i64,
    /// The answer's message, when the block names one and the answer holds it.
    pub message: Option<String>,
}

impl Status {
    /// A failure `code` with `message`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Status {
            code,
            message: Some(message.into()),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "status {:#x}: {m}", self.code),
            None => write!(f, "status {:#x}", self.code),
        }
    }
}

impl std::error::Error for Status {}

/// Why a side closes a connection: what the block's `on` lines name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Bytes that do not decode.
    Malformed,
    /// A message out of order (before the hello, a second hello, one never sent to this
    /// side).
    Violation,
    /// Silence past the keepalive's grace.
    Keepalive,
    /// The server stops.
    Shutdown,
}

/// Which end of a connection a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The side that accepted the connection: it receives the hello.
    Server,
    /// The side that opened it: it sends the hello.
    Client,
}

/// A request of ours (or a push) that waits for its answer; the driver maps it to a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// A received message the session wants answered: pass it back with the answer to
/// [`MessageSession::answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    seq: u64,
    expect: Expect,
    correlation: Option<u64>,
    ticket: Option<Ticket>,
    /// The correlation value is one we picked (the chain began with our request).
    ours: bool,
}

impl Token {
    /// What the answer must be.
    pub fn expect(&self) -> Expect {
        self.expect
    }

    /// The request's correlation value, which its answer takes.
    pub fn correlation(&self) -> Option<u64> {
        self.correlation
    }

    /// The ticket of our request this message continues (`A -> B`, then our `C`), whose
    /// waiter waits for the chain's end.
    pub fn ticket(&self) -> Option<Ticket> {
        self.ticket
    }
}

/// What a received message is.
#[derive(Debug)]
pub enum Incoming<M> {
    /// The hello (server side); answer it through the token. The version it set is in
    /// [`MessageSession::version`].
    Hello {
        /// The message.
        msg: M,
        /// Answer with this.
        token: Token,
    },
    /// A message with a rule, or a push: answer it through the token when it expects an
    /// answer (`token.expect()`).
    Message {
        /// The message.
        msg: M,
        /// Answer with this.
        token: Token,
    },
    /// An item of the series answering our request `ticket` (`Item* then End`); the
    /// series' end comes as [`Incoming::Answer`].
    Item {
        /// The request's ticket.
        ticket: Ticket,
        /// The message.
        msg: M,
    },
    /// The answer that ends the exchange our request (or push) `ticket` began.
    Answer {
        /// The request's ticket.
        ticket: Ticket,
        /// The message.
        msg: M,
    },
    /// A message whose rule closes the connection (`-> close`); the session is closed.
    Close {
        /// The message.
        msg: M,
    },
    /// An answer to nothing outstanding (a stale or duplicate acknowledgement): dropped by
    /// the session; drivers may log it.
    Stray {
        /// The message.
        msg: M,
    },
}

/// Why a session stopped: the connection is to be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The bytes are not a message.
    Decode(DecodeError),
    /// A message came before the hello.
    BeforeHello(&'static str),
    /// The hello came a second time.
    SecondHello,
    /// A message the server side never receives, or the client side never does (a hello
    /// sent to a client).
    WrongSide(&'static str),
    /// Nothing was received for the keepalive's grace period.
    KeepaliveTimeout(Duration),
    /// The hello did not come within this time (a driver's limit).
    NoHello(Duration),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Decode(e) => write!(f, "malformed message: {e}"),
            Violation::BeforeHello(m) => write!(f, "{m} before the connection's hello"),
            Violation::SecondHello => f.write_str("a second hello on one connection"),
            Violation::WrongSide(m) => write!(f, "{m} is never sent to this side"),
            Violation::KeepaliveTimeout(d) => write!(f, "nothing received for {d:?}"),
            Violation::NoHello(d) => write!(f, "no hello within {d:?}"),
        }
    }
}

impl std::error::Error for Violation {}

impl Violation {
    /// The failure it is, for the block's `on` lines.
    pub fn failure(&self) -> Failure {
        match self {
            Violation::Decode(_) => Failure::Malformed,
            Violation::BeforeHello(_)
            | Violation::SecondHello
            | Violation::WrongSide(_)
            | Violation::NoHello(_) => Failure::Violation,
            Violation::KeepaliveTimeout(_) => Failure::Keepalive,
        }
    }
}

/// Why an answer or a send was refused; the session is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The answer is not the message the rule expects.
    WrongAnswer {
        /// What the rule expects.
        expected: &'static str,
        /// What was given.
        got: &'static str,
    },
    /// The message answers nothing here (the token expects no answer).
    NoAnswerDue(&'static str),
    /// Every correlation value is in use.
    NoFreeCorrelation,
    /// The message may not be sent unasked.
    NotPushable(&'static str),
    /// The message is never sent by this side (a member `from client` sent by a server).
    WrongSide(&'static str),
    /// The session is closed.
    Closed,
    /// The message does not encode.
    Encode(EncodeError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::WrongAnswer { expected, got } => {
                write!(f, "the answer must be {expected}, not {got}")
            }
            SendError::NoAnswerDue(m) => write!(f, "{m} answers nothing here"),
            SendError::NoFreeCorrelation => f.write_str("every correlation value is in use"),
            SendError::NotPushable(m) => write!(f, "{m} is not declared `push`"),
            SendError::WrongSide(m) => write!(f, "{m} is never sent by this side"),
            SendError::Closed => f.write_str("the session is closed"),
            SendError::Encode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// What the session waits for from the peer.
#[derive(Debug, Clone, Copy)]
struct Outstanding {
    /// The member that answers (a series' end).
    member: usize,
    /// The member a series repeats before its end.
    item: Option<usize>,
    ticket: Ticket,
}

impl Outstanding {
    /// What waits for the answer `expect` names, under `ticket`.
    fn of(expect: Expect, ticket: Ticket) -> Option<Self> {
        expect.member().map(|member| Outstanding {
            member,
            item: expect.item(),
            ticket,
        })
    }
}

/// An answer of ours held for the answers to earlier requests (matching by order).
#[derive(Debug)]
struct Held {
    seq: u64,
    /// Its bytes so far (a series' items come before its end).
    bytes: BytesMut,
    /// Whether the answer is whole.
    done: bool,
}

impl Held {
    fn new(seq: u64) -> Self {
        Held {
            seq,
            bytes: BytesMut::new(),
            done: false,
        }
    }
}

/// One connection's exchange state: see the [module docs](self).
pub struct MessageSession<E: Exchange> {
    role: Role,
    /// The protocol's rules (a unit struct for generated protocols).
    exchange: E,
    codec: E::Codec,
    /// Received bytes taken from the caller's buffer at once and frozen, whose frames are
    /// read one at a time (self-delimited frames only: one pass over each frame).
    carry: bytes::Bytes,
    version: Option<u32>,
    hello_done: bool,
    closed: bool,
    /// Encoded messages waiting to be written.
    out: BytesMut,
    /// The sequence numbers of the answers of ours due (matching by order), in the order
    /// they leave in: the first writes straight to the output, the others wait for it.
    due: VecDeque<u64>,
    /// The answers (or parts of series) given while an earlier one is still due. Empty in
    /// the common case, where each answer is given in its turn: then nothing per message
    /// but a sequence number in `due`.
    held: Vec<Held>,
    next_seq: u64,
    /// Our correlated requests, by the correlation value we picked.
    by_id: HashMap<u64, Outstanding>,
    /// Chains the peer began that wait for its next message, by the peer's value.
    theirs: HashMap<u64, Outstanding>,
    /// Our uncorrelated requests, oldest first.
    by_order: VecDeque<Outstanding>,
    next_id: u64,
    next_ticket: u64,
    keepalive: Option<Duration>,
    last_recv: Instant,
    last_send: Instant,
}

impl<E: Exchange> fmt::Debug for MessageSession<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageSession")
            .field("role", &self.role)
            .field("version", &self.version)
            .field("closed", &self.closed)
            .field("outstanding", &self.outstanding())
            .finish_non_exhaustive()
    }
}

impl<E: Exchange> MessageSession<E> {
    /// A session of `exchange`'s protocol for a connection opened (or accepted) at `now`.
    pub fn new(exchange: E, role: Role, now: Instant) -> Self {
        // What this side decodes is what the other side sent.
        let peer = match role {
            Role::Server => Sender::Client,
            Role::Client => Sender::Server,
        };
        let mut codec = exchange.codec();
        codec.set_sender(Some(peer));
        let hello_done = exchange.hello().is_none();
        let mut s = MessageSession {
            role,
            exchange,
            codec,
            carry: bytes::Bytes::new(),
            version: None,
            hello_done,
            closed: false,
            out: BytesMut::new(),
            due: VecDeque::new(),
            held: Vec::new(),
            next_seq: 0,
            by_id: HashMap::new(),
            theirs: HashMap::new(),
            by_order: VecDeque::new(),
            next_id: 1,
            next_ticket: 1,
            keepalive: None,
            last_recv: now,
            last_send: now,
        };
        // Without a hello the connection speaks the lowest version until something switches
        // it ([`Self::set_version`]).
        if let (None, Some((lowest, _))) = (s.exchange.hello(), s.exchange.versions()) {
            s.set_version(lowest);
        }
        s
    }

    /// The protocol's rules.
    pub fn exchange(&self) -> &E {
        &self.exchange
    }

    /// The version the hello set.
    pub fn version(&self) -> Option<u32> {
        self.version
    }

    /// Whether the connection is to be closed (after the bytes in [`Self::take_output`]).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Requests of ours still waiting for their answers.
    pub fn outstanding(&self) -> usize {
        self.by_id.len() + self.theirs.len() + self.by_order.len()
    }

    /// The encoded bytes to write, taken.
    pub fn take_output(&mut self) -> BytesMut {
        self.out.split()
    }

    /// Whether there are bytes to write.
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Decodes the next message from `buf` (`Ok(None)`: more bytes are needed) and says what
    /// it is. A violation closes the session.
    pub fn receive(
        &mut self,
        buf: &mut BytesMut,
        now: Instant,
    ) -> Result<Option<Incoming<E::Msg>>, Violation> {
        if self.closed {
            return Ok(None);
        }
        let decoded = if self.codec.self_delimited() {
            self.decode_carried(buf)
        } else {
            self.codec.decode(buf)
        };
        let msg = match decoded {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.fail(Violation::Decode(e))),
        };
        self.last_recv = now;
        self.classify(msg).map(Some)
    }

    /// The next self-delimited frame: what `buf` holds is taken and frozen at once, and its
    /// frames read one at a time, each in one pass (the version and sender in effect for
    /// each when it is read); a frame cut short goes back to the front of `buf`.
    fn decode_carried(&mut self, buf: &mut BytesMut) -> Result<Option<E::Msg>, DecodeError> {
        if self.carry.is_empty() {
            if buf.is_empty() {
                return Ok(None);
            }
            self.carry = buf.split().freeze();
        } else if !buf.is_empty() {
            // Bytes came after the carried ones (a caller that does not drain): they follow.
            let mut all = BytesMut::with_capacity(self.carry.len() + buf.len());
            all.extend_from_slice(&self.carry);
            all.extend_from_slice(buf);
            buf.clear();
            self.carry = all.freeze();
        }
        match self.codec.decode_shared(&self.carry) {
            Ok(Some((frame, len))) => {
                bytes::Buf::advance(&mut self.carry, len);
                if self.carry.is_empty() {
                    // Not even an empty view of the read buffer is kept: it would keep the
                    // whole buffer alive while the connection is idle, and keep the caller
                    // from reusing it.
                    self.carry = bytes::Bytes::new();
                }
                Ok(Some(frame))
            }
            Ok(None) => {
                // Cut short: back in front of what comes next (in the room after it, when
                // the buffer the bytes came from has some).
                let tail = std::mem::take(&mut self.carry);
                let mut rest = std::mem::take(buf);
                rest.clear();
                rest.extend_from_slice(&tail);
                *buf = rest;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Closes the session on `v`, after the farewell the block declares for it.
    fn fail(&mut self, v: Violation) -> Violation {
        let detail = match &v {
            Violation::Decode(e) => e.to_string(),
            other => other.to_string(),
        };
        self.farewell_saying(v.failure(), &detail);
        v
    }

    /// Closes the session after the farewell the block declares for `failure` (under the
    /// version in effect; none before the hello set one), queued as output. Where answers
    /// leave in order, it leaves after the answers still due, which may still be given.
    pub fn farewell(&mut self, failure: Failure) {
        self.farewell_saying(failure, "");
    }

    /// [`Self::farewell`] saying what went wrong (`detail`) where the farewell holds
    /// `{error}`.
    pub fn farewell_saying(&mut self, failure: Failure, detail: &str) {
        if self.closed {
            return;
        }
        self.closed = true;
        let version = self.version.unwrap_or(0);
        let exchange = &self.exchange;
        let encoded = |detail: &str, codec: &mut E::Codec| {
            let mut m = exchange.farewell(failure, version, detail)?;
            exchange.complete(&mut m, version);
            let mut bytes = BytesMut::new();
            codec.encode(&m, &mut bytes).ok().map(|_| bytes)
        };
        // A detail the message cannot carry (a line break in a line) is left out; a
        // farewell that does not encode at all is: the connection closes anyway.
        let bytes = encoded(detail, &mut self.codec).or_else(|| encoded("", &mut self.codec));
        if let Some(bytes) = bytes {
            // Where answers leave in order, it follows the answers still due.
            let seq = self.next_seq;
            self.next_seq += 1;
            if !self.due.is_empty() {
                self.due.push_back(seq);
            }
            self.queue(seq, bytes, true);
        }
    }

    fn token(
        &mut self,
        expect: Expect,
        correlation: Option<u64>,
        chain: Option<(Ticket, bool)>,
    ) -> Token {
        let seq = self.next_seq;
        self.next_seq += 1;
        if expect.member().is_some() && !self.exchange.correlated() {
            self.due.push_back(seq);
        }
        Token {
            seq,
            expect,
            correlation,
            ticket: chain.map(|c| c.0),
            ours: chain.is_some_and(|c| c.1),
        }
    }

    fn classify(&mut self, msg: E::Msg) -> Result<Incoming<E::Msg>, Violation> {
        let member = self.exchange.member(&msg);
        let name = self.exchange.member_name(member);
        if Some(member) == self.exchange.hello() {
            if self.role == Role::Client {
                return Err(self.fail(Violation::WrongSide(name)));
            }
            if self.hello_done {
                return Err(self.fail(Violation::SecondHello));
            }
            self.hello_done = true;
            if let Some(v) = self.exchange.hello_version(&msg) {
                self.set_version(v);
            }
            self.keepalive = self.exchange.keepalive(&msg);
            let expect = self.exchange.expects(&msg, self.version.unwrap_or(0));
            let token = self.token(expect, self.exchange.correlation(&msg), None);
            return Ok(Incoming::Hello { msg, token });
        }
        if !self.hello_done {
            return Err(self.fail(Violation::BeforeHello(name)));
        }
        if self.exchange.out_of_band(&msg) {
            // Never an answer, whatever is due.
            let token = self.token(Expect::Nothing, None, None);
            return Ok(Incoming::Message { msg, token });
        }
        let version = self.version.unwrap_or(0);
        let expect = self.exchange.expects(&msg, version);
        let correlation = self.exchange.correlation(&msg);
        // Is it an item of a series answering something of ours?
        let item = match correlation {
            Some(id) if self.exchange.correlated() => self
                .by_id
                .get(&id)
                .or_else(|| self.theirs.get(&id))
                .filter(|o| o.item == Some(member)),
            _ => self.by_order.iter().find(|o| o.item == Some(member)),
        };
        if let Some(o) = item {
            return Ok(Incoming::Item {
                ticket: o.ticket,
                msg,
            });
        }
        // Does it answer something of ours?
        let resolved = match correlation {
            Some(id) if self.exchange.correlated() => {
                let ours = self.by_id.get(&id).is_some_and(|o| o.member == member);
                let theirs = self.theirs.get(&id).is_some_and(|o| o.member == member);
                if ours {
                    self.by_id.remove(&id).map(|o| (o, true))
                } else if theirs {
                    self.theirs.remove(&id).map(|o| (o, false))
                } else {
                    None
                }
            }
            _ => match self.by_order.iter().position(|o| o.member == member) {
                Some(i) => self.by_order.remove(i).map(|o| (o, false)),
                None => None,
            },
        };
        match (resolved, expect) {
            (_, Expect::Close) => {
                self.closed = true;
                Ok(Incoming::Close { msg })
            }
            // A failed answer ends the exchange, whatever its rule would answer.
            (Some((o, _)), Expect::Nothing) => Ok(Incoming::Answer {
                ticket: o.ticket,
                msg,
            }),
            (Some((o, _)), _) if self.exchange.failure(&msg).is_some() => Ok(Incoming::Answer {
                ticket: o.ticket,
                msg,
            }),
            (Some((o, ours)), expect) => {
                let token = self.token(expect, correlation, Some((o.ticket, ours)));
                Ok(Incoming::Message { msg, token })
            }
            (None, expect) if self.exchange.has_rule(member) || self.exchange.pushable(member) => {
                let token = self.token(expect, correlation, None);
                Ok(Incoming::Message { msg, token })
            }
            (None, _) => Ok(Incoming::Stray { msg }),
        }
    }

    /// Switches the connection to version `v` for what is decoded and encoded from now on
    /// (the hello's `@version` does this; a protocol that switches on a request's content,
    /// RESP's `HELLO 3`, has its handler do it).
    pub fn set_version(&mut self, v: u32) {
        self.version = Some(v);
        self.codec.set_version(v);
    }

    /// Refuses a message this side never sends.
    fn own_side(&self, member: usize) -> Result<(), SendError> {
        let ours = match self.role {
            Role::Server => Sender::Server,
            Role::Client => Sender::Client,
        };
        match self.exchange.sender(member) {
            Some(s) if s != ours => Err(SendError::WrongSide(self.exchange.member_name(member))),
            _ => Ok(()),
        }
    }

    /// Answers the message `token` came with. The answer's correlation value is the
    /// request's; where matching is by order it leaves after the answers to earlier
    /// requests. An answer that itself expects one (`B -> C` from the other side) waits for
    /// it under the request's ticket (or a new one, returned).
    pub fn answer(
        &mut self,
        token: Token,
        mut msg: E::Msg,
        now: Instant,
    ) -> Result<Option<Ticket>, SendError> {
        let got = self.exchange.member(&msg);
        self.own_side(got)?;
        let Some(expected) = token.expect.member() else {
            return Err(SendError::NoAnswerDue(self.exchange.member_name(got)));
        };
        if got != expected {
            return Err(SendError::WrongAnswer {
                expected: self.exchange.member_name(expected),
                got: self.exchange.member_name(got),
            });
        }
        if let Expect::Only { failure, .. } = token.expect
            && self.exchange.failure(&msg).is_some() != failure
        {
            // Not the outcome it is sent on: nothing goes, and nothing waits for it.
            self.decline(token);
            return Ok(None);
        }
        if let Some(id) = token.correlation {
            self.exchange.set_correlation(&mut msg, id);
        }
        let version = self.version.unwrap_or(0);
        self.exchange.complete(&mut msg, version);
        self.emit(token.seq, &msg, true)
            .map_err(SendError::Encode)?;
        // What the answer expects back continues the request's chain.
        let back = self.exchange.expects(&msg, version);
        let ticket = match back.member() {
            Some(_) => {
                let ticket = token.ticket.unwrap_or_else(|| self.new_ticket());
                let o = Outstanding::of(back, ticket).expect("an answer expected");
                // The value is ours when the chain began with a request of ours.
                match token.correlation {
                    Some(id) if self.exchange.correlated() && token.ours => {
                        self.by_id.insert(id, o);
                    }
                    Some(id) if self.exchange.correlated() => {
                        self.theirs.insert(id, o);
                    }
                    _ => self.by_order.push_back(o),
                }
                Some(ticket)
            }
            None => None,
        };
        if let Expect::OneThenClose(_) = token.expect {
            self.closed = true;
        }
        self.last_send = now;
        Ok(ticket)
    }

    /// Encodes `msg`, the answer numbered `seq` (or an item of it, `done` false), where it
    /// goes: straight into the output when no earlier answer is held (the common case, no
    /// copy), else behind the answers it waits for. On error nothing is written.
    fn emit(&mut self, seq: u64, msg: &E::Msg, done: bool) -> Result<(), EncodeError> {
        match self.due.front() {
            // First in line (or not in line): what it had so far is out already.
            Some(&first) if first == seq => {
                self.codec.encode(msg, &mut self.out)?;
                if done {
                    self.due.pop_front();
                    self.release();
                }
                Ok(())
            }
            _ if !self.due.contains(&seq) => self.codec.encode(msg, &mut self.out),
            _ => {
                let i = self.held_index(seq);
                self.codec.encode(msg, &mut self.held[i].bytes)?;
                self.held[i].done |= done;
                Ok(())
            }
        }
    }

    /// Where the held answer numbered `seq` is in `held`, made when it is not held yet.
    fn held_index(&mut self, seq: u64) -> usize {
        match self.held.iter().position(|h| h.seq == seq) {
            Some(i) => i,
            None => {
                self.held.push(Held::new(seq));
                self.held.len() - 1
            }
        }
    }

    /// Sends one item of the series answering the message `token` came with (`Item* then
    /// End`; the end goes through [`Self::answer`], which takes the token). Items take the
    /// request's correlation value; where matching is by order they leave after the answers
    /// to earlier requests, and before the series' end.
    pub fn answer_item(
        &mut self,
        token: &Token,
        mut msg: E::Msg,
        now: Instant,
    ) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let got = self.exchange.member(&msg);
        self.own_side(got)?;
        let Some(expected) = token.expect.item() else {
            return Err(SendError::NoAnswerDue(self.exchange.member_name(got)));
        };
        if got != expected {
            return Err(SendError::WrongAnswer {
                expected: self.exchange.member_name(expected),
                got: self.exchange.member_name(got),
            });
        }
        if let Some(id) = token.correlation {
            self.exchange.set_correlation(&mut msg, id);
        }
        self.exchange.complete(&mut msg, self.version.unwrap_or(0));
        self.emit(token.seq, &msg, false)
            .map_err(SendError::Encode)?;
        self.last_send = now;
        Ok(())
    }

    /// Queues `bytes` of the answer numbered `seq` (`done`: the answer is whole). An answer
    /// held for earlier ones waits; the first one held leaves at once, and the ones after it
    /// follow as they are whole.
    fn queue(&mut self, seq: u64, bytes: BytesMut, done: bool) {
        match self.due.front() {
            Some(&first) if first == seq => {
                self.out.unsplit(bytes);
                if done {
                    self.due.pop_front();
                    self.release();
                }
            }
            _ if !self.due.contains(&seq) => self.out.unsplit(bytes),
            _ => {
                let i = self.held_index(seq);
                self.held[i].bytes.unsplit(bytes);
                self.held[i].done |= done;
            }
        }
    }

    /// Writes out what the held answers now first in line have: whole answers, and the part
    /// so far of the first one that is not.
    fn release(&mut self) {
        while !self.held.is_empty() {
            let Some(&first) = self.due.front() else {
                break;
            };
            let Some(i) = self.held.iter().position(|h| h.seq == first) else {
                break;
            };
            let h = &mut self.held[i];
            if !h.bytes.is_empty() {
                self.out.unsplit(h.bytes.split());
            }
            if !h.done {
                // First in line now: what comes next of it is written straight out.
                self.held.swap_remove(i);
                break;
            }
            self.held.swap_remove(i);
            self.due.pop_front();
        }
    }

    /// Declines to answer a message whose answer is due (a handler that failed): where
    /// matching is by order, later answers no longer wait for it.
    pub fn decline(&mut self, token: Token) {
        if let Some(i) = self.due.iter().position(|&s| s == token.seq) {
            self.due.remove(i);
            self.held.retain(|h| h.seq != token.seq);
            if i == 0 {
                self.release();
            }
        }
    }

    fn new_ticket(&mut self) -> Ticket {
        let t = Ticket(self.next_ticket);
        self.next_ticket += 1;
        t
    }

    fn free_id(&mut self) -> Result<u64, SendError> {
        let max = self.exchange.max_correlation().max(1);
        if self.by_id.len() as u64 >= max {
            return Err(SendError::NoFreeCorrelation);
        }
        loop {
            let id = self.next_id;
            self.next_id = if id >= max { 1 } else { id + 1 };
            if !self.by_id.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    /// Sends a message of ours: the hello (client), a request, or a push. A message that
    /// takes a correlation value gets a free one; a message that expects an answer returns
    /// the [`Ticket`] its answer (the end of its chain) comes back with as
    /// [`Incoming::Answer`].
    pub fn send(&mut self, msg: E::Msg, now: Instant) -> Result<Option<Ticket>, SendError> {
        self.send_as(msg, now, true)
    }

    /// [`Self::send`] of a request whose answer its protocol sends out of band, by the
    /// request's content (RESP3 answers `SUBSCRIBE` with pushes only): nothing waits for
    /// an answer in line, so later answers go to later requests.
    pub fn send_unawaited(&mut self, msg: E::Msg, now: Instant) -> Result<(), SendError> {
        self.send_as(msg, now, false).map(|_| ())
    }

    fn send_as(
        &mut self,
        mut msg: E::Msg,
        now: Instant,
        awaited: bool,
    ) -> Result<Option<Ticket>, SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        let member = self.exchange.member(&msg);
        self.own_side(member)?;
        let version = if Some(member) == self.exchange.hello() {
            let v = self.exchange.hello_version(&msg);
            v.unwrap_or(0)
        } else {
            self.version.unwrap_or(0)
        };
        self.exchange.complete(&mut msg, version);
        let expect = self.exchange.expects(&msg, version);
        let id = if self.exchange.correlated() && self.exchange.takes_correlation(&msg) {
            let id = self.free_id()?;
            self.exchange.set_correlation(&mut msg, id);
            Some(id)
        } else {
            None
        };
        let mut bytes = BytesMut::new();
        let mut codec = self.codec.clone();
        codec.set_version(version);
        codec.encode(&msg, &mut bytes).map_err(SendError::Encode)?;
        if Some(member) == self.exchange.hello() {
            self.hello_done = true;
            if let Some(v) = self.exchange.hello_version(&msg) {
                self.set_version(v);
            }
            self.keepalive = self.exchange.keepalive(&msg);
        }
        let ticket = match expect {
            Expect::One(_) | Expect::Series { .. } if !awaited => None,
            Expect::One(_) | Expect::OneThenClose(_) | Expect::Series { .. } => {
                let ticket = self.new_ticket();
                let o = Outstanding::of(expect, ticket).expect("an answer expected");
                match id {
                    Some(id) => {
                        self.by_id.insert(id, o);
                    }
                    None => self.by_order.push_back(o),
                }
                Some(ticket)
            }
            Expect::Close => {
                self.closed = true;
                None
            }
            // Answered, if at all, on an outcome: nothing waits for it.
            Expect::Nothing | Expect::Only { .. } => None,
        };
        self.last_send = now;
        self.out.unsplit(bytes);
        Ok(ticket)
    }

    /// Forgets every request of ours still waiting (the connection is gone): their tickets.
    pub fn abandon(&mut self) -> Vec<Ticket> {
        let mut t: Vec<Ticket> = self.by_id.drain().map(|(_, o)| o.ticket).collect();
        t.extend(self.theirs.drain().map(|(_, o)| o.ticket));
        t.extend(self.by_order.drain(..).map(|o| o.ticket));
        t.sort();
        t
    }

    /// The silence a keepalive of `k` allows.
    fn grace(&self, k: Duration) -> Duration {
        k * self.exchange.grace_permille() / 1000
    }

    /// When [`Self::tick`] must next be called (`None`: no keepalive).
    pub fn deadline(&self) -> Option<Instant> {
        let k = self.keepalive?;
        let grace = self.last_recv + self.grace(k);
        Some(match self.role {
            Role::Client if self.exchange.ping().is_some() => grace.min(self.last_send + k),
            _ => grace,
        })
    }

    /// Keeps the connection alive at `now`: a client that has sent nothing for an interval
    /// sends the ping; a side that has received nothing for the grace period fails.
    pub fn tick(&mut self, now: Instant) -> Result<(), Violation> {
        let Some(k) = self.keepalive else {
            return Ok(());
        };
        if now.duration_since(self.last_recv) >= self.grace(k) {
            return Err(self.fail(Violation::KeepaliveTimeout(self.grace(k))));
        }
        if self.role == Role::Client
            && now.duration_since(self.last_send) >= k
            && let Some(ping) = self.exchange.ping()
        {
            // A ping that cannot be sent (closed) leaves the timeout to end the session.
            let _ = self.send(ping, now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Framed, FramedCodec, WireMessage};
    use crate::error::EncodeError;
    use crate::wire::{Limits, Reader, Writer};

    /// A two-byte message: a kind (1 request, 2 answer, 3 hello, 4 its answer, 5 a listing,
    /// 6 an entry, 7 the listing's end) and a value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Toy(u8, u8);

    impl WireMessage for Toy {
        fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            let b = r.bytes(2, "toy")?;
            Ok(Toy(b[0], b[1]))
        }

        fn write_to(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
            w.cursor().put_slice(&[self.0, self.1]);
            Ok(())
        }
    }

    impl Framed for Toy {
        const NAME: &'static str = "Toy";
        const LIMITS: Limits = Limits::DEFAULT;

        fn frame_len(buf: &[u8], _limits: &Limits) -> Result<Option<usize>, DecodeError> {
            Ok((buf.len() >= 2).then_some(2))
        }
    }

    /// `exchange { hello Hello -> HelloAck; Req -> Resp; List -> Entry* then End; order }`.
    #[derive(Clone)]
    struct ToyExchange;

    impl Exchange for ToyExchange {
        type Msg = Toy;
        type Codec = FramedCodec<Toy>;

        fn codec(&self) -> FramedCodec<Toy> {
            FramedCodec::new()
        }
        fn id(&self) -> &'static str {
            "toy"
        }
        fn member_name(&self, member: usize) -> &'static str {
            ["Req", "Resp", "Hello", "HelloAck", "List", "Entry", "End"][member]
        }
        fn hello(&self) -> Option<usize> {
            Some(2)
        }
        fn correlated(&self) -> bool {
            false
        }
        fn max_correlation(&self) -> u64 {
            0
        }
        fn grace_permille(&self) -> u32 {
            1000
        }
        fn versions(&self) -> Option<(u32, u32)> {
            None
        }
        fn member(&self, m: &Toy) -> usize {
            usize::from(m.0.saturating_sub(1)).min(6)
        }
        fn expects(&self, m: &Toy, _version: u32) -> Expect {
            match m.0 {
                1 => Expect::One(1),
                3 => Expect::One(3),
                5 => Expect::Series { item: 5, end: 6 },
                _ => Expect::Nothing,
            }
        }
        fn has_rule(&self, member: usize) -> bool {
            matches!(member, 0 | 2 | 4)
        }
        fn pushable(&self, _member: usize) -> bool {
            false
        }
        fn correlation(&self, _m: &Toy) -> Option<u64> {
            None
        }
        fn takes_correlation(&self, _m: &Toy) -> bool {
            false
        }
        fn set_correlation(&self, _m: &mut Toy, _id: u64) {}
        fn hello_version(&self, _m: &Toy) -> Option<u32> {
            None
        }
        fn keepalive(&self, _m: &Toy) -> Option<Duration> {
            None
        }
        fn ping(&self) -> Option<Toy> {
            None
        }
        fn farewell(&self, _failure: Failure, _version: u32, _detail: &str) -> Option<Toy> {
            None
        }
        fn accepted(&self, _answer: &Toy) -> bool {
            true
        }
        fn set_hello_version(&self, _hello: &mut Toy, _version: u32) {}
        fn failure(&self, _answer: &Toy) -> Option<Status> {
            None
        }
        fn set_failure(&self, _answer: &mut Toy, _status: &Status) -> bool {
            false
        }
        fn complete(&self, _m: &mut Toy, _version: u32) {}
        fn blank(&self, member: usize, _correlation: Option<u64>) -> Toy {
            Toy(member as u8 + 1, 0)
        }
    }

    /// A server session after the hello, and the tokens of `n` requests 10, 11, ...
    fn requests(n: u8) -> (MessageSession<ToyExchange>, Vec<Token>) {
        let kinds = vec![1; usize::from(n)];
        received(&kinds)
    }

    /// A server session after the hello, and the tokens of one message of each kind in
    /// `kinds`, valued 10, 11, ...
    fn received(kinds: &[u8]) -> (MessageSession<ToyExchange>, Vec<Token>) {
        let now = Instant::now();
        let mut s = MessageSession::new(ToyExchange, Role::Server, now);
        let mut buf = BytesMut::from(&[3u8, 0][..]);
        let Ok(Some(Incoming::Hello { token, .. })) = s.receive(&mut buf, now) else {
            panic!("the hello");
        };
        s.answer(token, Toy(4, 0), now).expect("its answer");
        assert_eq!(&s.take_output()[..], &[4, 0]);
        let mut buf = BytesMut::new();
        for (i, k) in kinds.iter().enumerate() {
            buf.extend_from_slice(&[*k, 10 + i as u8]);
        }
        let mut tokens = Vec::new();
        while let Ok(Some(Incoming::Message { token, .. })) = s.receive(&mut buf, now) {
            tokens.push(token);
        }
        assert_eq!(tokens.len(), kinds.len());
        (s, tokens)
    }

    #[test]
    fn a_series_streams_its_items_then_its_end_and_the_answers_after_it_wait_for_the_end() {
        let now = Instant::now();
        // A listing, then a request whose answer is ready first.
        let (mut s, mut t) = received(&[5, 1]);
        let (req, list) = (t.pop().unwrap(), t.pop().unwrap());
        assert_eq!(list.expect(), Expect::Series { item: 5, end: 6 });
        s.answer(req, Toy(2, 11), now)
            .expect("the request's answer");
        assert!(!s.has_output(), "it waits for the listing");
        s.answer_item(&list, Toy(6, 1), now).expect("an entry");
        s.answer_item(&list, Toy(6, 2), now).expect("an entry");
        // The listing is first in line: its entries leave as they come.
        assert_eq!(&s.take_output()[..], &[6, 1, 6, 2]);
        s.answer(list, Toy(7, 0), now).expect("the end");
        assert_eq!(&s.take_output()[..], &[7, 0, 2, 11]);
    }

    #[test]
    fn the_items_of_a_series_behind_an_unanswered_request_wait_with_their_end() {
        let now = Instant::now();
        let (mut s, mut t) = received(&[1, 5]);
        let (list, req) = (t.pop().unwrap(), t.pop().unwrap());
        s.answer_item(&list, Toy(6, 1), now).expect("an entry");
        s.answer(list, Toy(7, 0), now).expect("the end");
        assert!(!s.has_output());
        s.answer(req, Toy(2, 10), now).expect("the first answer");
        assert_eq!(&s.take_output()[..], &[2, 10, 6, 1, 7, 0]);
    }

    #[test]
    fn an_item_of_the_wrong_kind_or_for_a_one_message_answer_is_refused() {
        let now = Instant::now();
        let (mut s, mut t) = received(&[5, 1]);
        let (req, list) = (t.pop().unwrap(), t.pop().unwrap());
        assert_eq!(
            s.answer_item(&list, Toy(2, 1), now),
            Err(SendError::WrongAnswer {
                expected: "Entry",
                got: "Resp"
            })
        );
        assert_eq!(
            s.answer_item(&req, Toy(6, 1), now),
            Err(SendError::NoAnswerDue("Entry"))
        );
        // The series' end through `answer` must be the end, not an item.
        assert_eq!(
            s.answer(list, Toy(6, 1), now),
            Err(SendError::WrongAnswer {
                expected: "End",
                got: "Entry"
            })
        );
        assert!(!s.has_output());
    }

    #[test]
    fn a_client_receives_a_series_as_items_then_the_answer_under_its_requests_ticket() {
        let now = Instant::now();
        let mut c = MessageSession::new(ToyExchange, Role::Client, now);
        c.send(Toy(3, 0), now).expect("the hello");
        let mut buf = BytesMut::from(&[4u8, 0][..]);
        assert!(matches!(
            c.receive(&mut buf, now),
            Ok(Some(Incoming::Answer { .. }))
        ));
        let list = c.send(Toy(5, 0), now).expect("sent").expect("a ticket");
        let req = c.send(Toy(1, 0), now).expect("sent").expect("a ticket");
        assert_eq!(&c.take_output()[..], &[3, 0, 5, 0, 1, 0]);
        let mut buf = BytesMut::from(&[6u8, 1, 6, 2, 7, 0, 2, 9][..]);
        let mut seen = Vec::new();
        while let Ok(Some(i)) = c.receive(&mut buf, now) {
            seen.push(match i {
                Incoming::Item { ticket, msg } => ("item", ticket, msg),
                Incoming::Answer { ticket, msg } => ("answer", ticket, msg),
                other => panic!("unexpected {other:?}"),
            });
        }
        assert_eq!(
            seen,
            vec![
                ("item", list, Toy(6, 1)),
                ("item", list, Toy(6, 2)),
                ("answer", list, Toy(7, 0)),
                ("answer", req, Toy(2, 9)),
            ]
        );
        assert_eq!(c.outstanding(), 0);
        // An entry with no listing outstanding answers nothing.
        let mut buf = BytesMut::from(&[6u8, 3][..]);
        assert!(matches!(
            c.receive(&mut buf, now),
            Ok(Some(Incoming::Stray { .. }))
        ));
    }

    #[test]
    fn answers_matched_by_order_leave_in_request_order_whatever_order_they_come_in() {
        let now = Instant::now();
        let (mut s, mut t) = requests(3);
        let (t3, t2, t1) = (t.pop().unwrap(), t.pop().unwrap(), t.pop().unwrap());
        s.answer(t3, Toy(2, 12), now).expect("third");
        s.answer(t2, Toy(2, 11), now).expect("second");
        // Both wait for the first.
        assert!(!s.has_output());
        s.answer(t1, Toy(2, 10), now).expect("first");
        assert_eq!(&s.take_output()[..], &[2, 10, 2, 11, 2, 12]);
    }

    #[test]
    fn a_declined_answer_no_longer_holds_the_later_ones_back() {
        let now = Instant::now();
        let (mut s, mut t) = requests(3);
        let (t3, t2, t1) = (t.pop().unwrap(), t.pop().unwrap(), t.pop().unwrap());
        s.answer(t3, Toy(2, 12), now).expect("third");
        s.answer(t1, Toy(2, 10), now).expect("first");
        assert_eq!(&s.take_output()[..], &[2, 10]);
        s.decline(t2);
        assert_eq!(&s.take_output()[..], &[2, 12]);
    }

    #[test]
    fn a_wrong_answer_is_refused_and_changes_nothing() {
        let now = Instant::now();
        let (mut s, mut t) = requests(1);
        let t1 = t.pop().unwrap();
        assert_eq!(
            s.answer(t1.clone(), Toy(4, 0), now),
            Err(SendError::WrongAnswer {
                expected: "Resp",
                got: "HelloAck"
            })
        );
        assert!(!s.has_output());
        s.answer(t1, Toy(2, 10), now).expect("the right one");
        assert_eq!(&s.take_output()[..], &[2, 10]);
    }
}
