// `protocols/wire/resp.wire`, written with the macros instead of the DSL: literal fields,
// `until` lines, ASCII decimal integers, counts and lengths of absent values as attributes.
// Shared by the RESP parity test (`include!`d) and the front-end parity test in
// polywire-codegen (read as text).

/// RESP: every value starts with a byte saying its type; lines end with CRLF, lengths and
/// counts are ASCII decimal, and -1 stands for a null bulk string or array. A client sends
/// commands, a server values; a connection speaks RESP2 until `HELLO 3` switches it to
/// RESP3.
#[polywire::protocol(
    id = "resp",
    versions = 2..=3,
    limits(
        max_frame_len = 536870912,
        max_string_len = 536870912,
        max_collection_len = 1048576
    ),
    detect(prefix = [0x2A], at = 0),
    exchange = r#"
        /// How commands are answered:
        /// - every command by one value, in the order the commands came (no correlation id;
        ///   a pipeline of thousands is answered as it is read);
        /// - a subscribed connection is sent values unasked (RESP2: arrays); a RESP3 push (`>`)
        ///   is always sent unasked, never an answer, even while one is due;
        /// - a connection whose bytes are not RESP is told so by an error, then closed.
        Command -> Value
        Empty -> nothing
        push Push
        on malformed -> SimpleError(text = "ERR Protocol error: {error}")
    "#
)]
pub mod resp {
    /// `+OK\r\n`.
    pub struct SimpleString {
        #[wire(constant = b'+')]
        marker: u8,
        #[wire(until = "\r\n")]
        text: Str,
    }

    /// `-ERR unknown\r\n`.
    pub struct SimpleError {
        #[wire(constant = b'-')]
        marker: u8,
        #[wire(until = "\r\n")]
        text: Str,
    }

    /// `:1000\r\n`.
    pub struct Integer {
        #[wire(constant = b':')]
        marker: u8,
        #[wire(decimal, until = "\r\n")]
        value: i64,
    }

    /// `$5\r\nhello\r\n`; `$-1\r\n` is null (no data).
    pub struct BulkString {
        #[wire(constant = b'$')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "data", else = -1)]
        len: i64,
        #[wire(sized_by = len, if = "len >= 0")]
        data: Option<Bytes>,
        #[wire(literal = "\r\n", if = "len >= 0")]
        end: (),
    }

    /// `*2\r\n...`; `*-1\r\n` is null (no items).
    pub struct Array {
        #[wire(constant = b'*')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "items", else = -1)]
        count: i64,
        #[wire(count = "count", if = "count >= 0")]
        items: Option<Vec<Value>>,
    }

    /// `_\r\n` (RESP3).
    pub struct Null {
        #[wire(constant = b'_')]
        marker: u8,
        #[wire(literal = "\r\n")]
        end: (),
    }

    /// `#t\r\n` or `#f\r\n` (RESP3).
    pub struct Boolean {
        #[wire(constant = b'#')]
        marker: u8,
        #[wire(until = "\r\n")]
        value: Str,
    }

    /// `,3.14\r\n` (RESP3): the number as Redis writes it.
    pub struct Double {
        #[wire(constant = b',')]
        marker: u8,
        #[wire(until = "\r\n")]
        text: Str,
    }

    /// `(3492890328409238509324850943850943825024385\r\n` (RESP3).
    pub struct BigNumber {
        #[wire(constant = b'(')]
        marker: u8,
        #[wire(until = "\r\n")]
        text: Str,
    }

    /// `!21\r\nSYNTAX invalid syntax\r\n` (RESP3).
    pub struct BulkError {
        #[wire(constant = b'!')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "data")]
        len: i64,
        #[wire(sized_by = len)]
        data: Bytes,
        #[wire(literal = "\r\n")]
        end: (),
    }

    /// `=15\r\ntxt:Some string\r\n` (RESP3): a format and the text.
    pub struct VerbatimString {
        #[wire(constant = b'=')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "data")]
        len: i64,
        #[wire(sized_by = len)]
        data: Bytes,
        #[wire(literal = "\r\n")]
        end: (),
    }

    /// A key and its value in a map or attribute.
    pub struct Pair {
        key: Value,
        value: Value,
    }

    /// `%2\r\n...` (RESP3): the count is of pairs.
    pub struct Map {
        #[wire(constant = b'%')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "entries")]
        count: i64,
        #[wire(count = "count")]
        entries: Vec<Pair>,
    }

    /// `~2\r\n...` (RESP3).
    pub struct Set {
        #[wire(constant = b'~')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "items")]
        count: i64,
        #[wire(count = "count")]
        items: Vec<Value>,
    }

    /// `|1\r\n...` (RESP3): attributes of the value that follows, which is a frame of
    /// its own.
    pub struct Attribute {
        #[wire(constant = b'|')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "entries")]
        count: i64,
        #[wire(count = "count")]
        entries: Vec<Pair>,
    }

    /// `>2\r\n...` (RESP3): out-of-band data.
    pub struct Push {
        #[wire(constant = b'>')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "items")]
        count: i64,
        #[wire(count = "count")]
        items: Vec<Value>,
    }

    /// A RESP value, told apart by its first byte.
    #[wire(union)]
    pub enum Value {
        SimpleString(SimpleString),
        SimpleError(SimpleError),
        Integer(Integer),
        BulkString(BulkString),
        Array(Array),
        Null(Null),
        Boolean(Boolean),
        Double(Double),
        BigNumber(BigNumber),
        BulkError(BulkError),
        VerbatimString(VerbatimString),
        Map(Map),
        Set(Set),
        Attribute(Attribute),
        Push(Push),
    }

    /// An inline command, `PING\r\n` or `SET k v\r\n`: a line of words separated by spaces,
    /// as telnet users and redis-cli's inline mode send (a client sends commands this way
    /// or as an `Array` of bulk strings).
    pub struct Inline {
        #[wire(until = "\r\n")]
        line: Str,
    }

    /// An empty line between commands, which a server skips.
    pub struct Empty {
        #[wire(constant = b'\r')]
        cr: u8,
        #[wire(constant = b'\n')]
        lf: u8,
    }

    /// What a client sends a server: a command as an array of bulk strings, an empty line,
    /// or any other line as an inline command.
    #[wire(union)]
    pub enum Command {
        Array(Array),
        Empty(Empty),
        #[wire(fallback)]
        Inline(Inline),
    }

    /// A connection's two directions: a client sends commands, a server values.
    #[wire(union, frame)]
    pub enum Message {
        #[wire(from = "client")]
        Command(Command),
        #[wire(from = "server")]
        Value(Value),
    }
}
