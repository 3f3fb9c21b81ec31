// `protocols/wire/mqtt.wire`, written with the macros instead of the DSL: unions, tagged
// lists, conditions, presence bits and bounded varints as attributes. Shared by the MQTT
// parity test (`include!`d) and the front-end parity test in polywire-codegen (read as text).
//
// MQTT 3.1.1 (OASIS Standard, 29 October 2014) and MQTT 5.0 (OASIS Standard, 7 March
// 2019): every control packet, byte-exact. Section numbers (§) are MQTT 5.0's.

/// MQTT: a publish/subscribe protocol. Protocol level 4 is MQTT 3.1.1, level 5 is MQTT 5.0;
/// the level a client sends in CONNECT is the version in effect for the connection, and
/// what only 5.0 has (properties, reason codes) is read and written under `@version >= 5`.
#[polywire::protocol(
    id = "mqtt",
    endian = big,
    versions = 4..=5,
    limits(max_frame_len = 16777216, max_string_len = 65535, max_collection_len = 65535),
    detect(prefix = [0x10], at = 0),
    detect(prefix = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54], at = 2),
    or,
    detect(prefix = [0x10], at = 0),
    detect(prefix = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54], at = 3),
    exchange = r#"
        /// How MQTT packets answer each other (§4.3, §3.1.2.10, §3.12).
        /// - A connection opens with CONNECT, which the server answers with CONNACK.
        /// - A PUBLISH at QoS 1 is acknowledged by PUBACK; at QoS 2 by PUBREC, which the sender
        ///   answers with PUBREL, answered by PUBCOMP; at QoS 0 by nothing.
        /// - SUBSCRIBE is answered by SUBACK, UNSUBSCRIBE by UNSUBACK, PINGREQ by PINGRESP.
        /// - After DISCONNECT the connection closes; AUTH is not answered here.
        /// - Acknowledgements carry the packet identifier of the packet they answer.
        /// - A server publishes to its subscribers unasked.
        /// - Keep alive (§3.1.2.10): CONNECT gives the interval in seconds (0: off); a client
        ///   silent that long sends PINGREQ, and the server closes a connection silent for 1.5
        ///   times the interval.
        /// - CONNACK accepts the connection when its code is 0 (§3.1.4, §3.2.2.2); a client
        ///   refused at level 5 may try level 4.
        /// - In 5.0 a side closing a connection on an error first sends DISCONNECT with the
        ///   reason (§4.13): a malformed packet, a protocol error, a keep alive timeout, or the
        ///   server shutting down.
        /// - CONNACK code 0 is success (§3.2.2.3); a 5.0 PUBACK, PUBREC or PUBCOMP reason code
        ///   below 0x80 is success (§2.4), its Reason String property says why it failed.
        hello Connect -> ConnAck accept if code == 0
        Publish -> PubAck if qos == 1, PubRec if qos == 2
        PubRec -> PubRel; PubRel -> PubComp
        Subscribe -> SubAck; Unsubscribe -> UnsubAck
        PingReq -> PingResp
        Disconnect -> close; Auth -> nothing
        correlate packet_id
        push Publish
        keepalive Connect.keep_alive seconds * 1.5 ping PingReq
        on malformed -> Disconnect(reason = MALFORMED_PACKET) if @version >= 5
        on violation -> Disconnect(reason = PROTOCOL_ERROR) if @version >= 5
        on keepalive -> Disconnect(reason = KEEP_ALIVE_TIMEOUT) if @version >= 5
        on shutdown -> Disconnect(reason = SERVER_SHUTTING_DOWN) if @version >= 5
        status ConnAck.code ok 0
        status PubAck.reason ok 0x00..0x7F message properties.reason_string
        status PubRec.reason ok 0x00..0x7F message properties.reason_string
        status PubComp.reason ok 0x00..0x7F message properties.reason_string
    "#
)]
pub mod mqtt {
    /// Quality of service (§4.3). The value 3 is malformed.
    #[repr(u8)]
    pub enum QoS {
        AtMostOnce = 0,
        AtLeastOnce = 1,
        ExactlyOnce = 2,
    }

    /// MQTT 5.0 reason codes (§2.4); open, so a code from a later revision is kept.
    #[wire(open)]
    #[repr(u8)]
    pub enum ReasonCode {
        /// Success, normal disconnection, or granted QoS 0.
        Success = 0x00,
        #[wire(rename = "GRANTED_QOS_1")]
        GrantedQos1 = 0x01,
        #[wire(rename = "GRANTED_QOS_2")]
        GrantedQos2 = 0x02,
        DisconnectWithWillMessage = 0x04,
        NoMatchingSubscribers = 0x10,
        NoSubscriptionExisted = 0x11,
        ContinueAuthentication = 0x18,
        ReAuthenticate = 0x19,
        UnspecifiedError = 0x80,
        MalformedPacket = 0x81,
        ProtocolError = 0x82,
        ImplementationSpecificError = 0x83,
        UnsupportedProtocolVersion = 0x84,
        ClientIdentifierNotValid = 0x85,
        BadUserNameOrPassword = 0x86,
        NotAuthorized = 0x87,
        ServerUnavailable = 0x88,
        ServerBusy = 0x89,
        Banned = 0x8A,
        ServerShuttingDown = 0x8B,
        BadAuthenticationMethod = 0x8C,
        KeepAliveTimeout = 0x8D,
        SessionTakenOver = 0x8E,
        TopicFilterInvalid = 0x8F,
        TopicNameInvalid = 0x90,
        PacketIdentifierInUse = 0x91,
        PacketIdentifierNotFound = 0x92,
        ReceiveMaximumExceeded = 0x93,
        TopicAliasInvalid = 0x94,
        PacketTooLarge = 0x95,
        MessageRateTooHigh = 0x96,
        QuotaExceeded = 0x97,
        AdministrativeAction = 0x98,
        PayloadFormatInvalid = 0x99,
        RetainNotSupported = 0x9A,
        QosNotSupported = 0x9B,
        UseAnotherServer = 0x9C,
        ServerMoved = 0x9D,
        SharedSubscriptionsNotSupported = 0x9E,
        ConnectionRateExceeded = 0x9F,
        MaximumConnectTime = 0xA0,
        SubscriptionIdentifiersNotSupported = 0xA1,
        WildcardSubscriptionsNotSupported = 0xA2,
    }

    /// A user property (§3.1.2.11.8): a name and a value.
    pub struct StringPair {
        #[wire(prefix = u16)]
        name: Str,
        #[wire(prefix = u16)]
        value: Str,
    }

    /// MQTT 5.0 properties (§2.2.2): each an identifier, then a value of the identifier's
    /// type. Only user properties and subscription identifiers may repeat.
    #[wire(tagged = "varint<max = 268435455>")]
    pub struct Properties {
        #[wire(tag = 0x01)]
        payload_format_indicator: Option<u8>,
        #[wire(tag = 0x02)]
        message_expiry_interval: Option<u32>,
        #[wire(tag = 0x03, prefix = u16)]
        content_type: Option<Str>,
        #[wire(tag = 0x08, prefix = u16)]
        response_topic: Option<Str>,
        #[wire(tag = 0x09, prefix = u16)]
        correlation_data: Option<Bytes>,
        #[wire(tag = 0x0B, varint, max = 268435455)]
        subscription_identifier: Vec<u64>,
        #[wire(tag = 0x11)]
        session_expiry_interval: Option<u32>,
        #[wire(tag = 0x12, prefix = u16)]
        assigned_client_identifier: Option<Str>,
        #[wire(tag = 0x13)]
        server_keep_alive: Option<u16>,
        #[wire(tag = 0x15, prefix = u16)]
        authentication_method: Option<Str>,
        #[wire(tag = 0x16, prefix = u16)]
        authentication_data: Option<Bytes>,
        #[wire(tag = 0x17)]
        request_problem_information: Option<u8>,
        #[wire(tag = 0x18)]
        will_delay_interval: Option<u32>,
        #[wire(tag = 0x19)]
        request_response_information: Option<u8>,
        #[wire(tag = 0x1A, prefix = u16)]
        response_information: Option<Str>,
        #[wire(tag = 0x1C, prefix = u16)]
        server_reference: Option<Str>,
        #[wire(tag = 0x1F, prefix = u16)]
        reason_string: Option<Str>,
        #[wire(tag = 0x21)]
        receive_maximum: Option<u16>,
        #[wire(tag = 0x22)]
        topic_alias_maximum: Option<u16>,
        #[wire(tag = 0x23)]
        topic_alias: Option<u16>,
        #[wire(tag = 0x24)]
        maximum_qos: Option<u8>,
        #[wire(tag = 0x25)]
        retain_available: Option<u8>,
        #[wire(tag = 0x26)]
        user_property: Vec<StringPair>,
        #[wire(tag = 0x27)]
        maximum_packet_size: Option<u32>,
        #[wire(tag = 0x28)]
        wildcard_subscription_available: Option<u8>,
        #[wire(tag = 0x29)]
        subscription_identifier_available: Option<u8>,
        #[wire(tag = 0x2A)]
        shared_subscription_available: Option<u8>,
    }

    /// The will message a CONNECT may carry (§3.1.3.2–3.1.3.4).
    pub struct Will {
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(prefix = u16)]
        topic: Str,
        #[wire(prefix = u16)]
        payload: Bytes,
    }

    /// CONNECT (§3.1): the client's first packet.
    pub struct Connect {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 1)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        /// `MQTT`.
        #[wire(prefix = u16)]
        protocol_name: Str,
        /// 4 for MQTT 3.1.1, 5 for MQTT 5.0: the version of what follows.
        #[wire(version)]
        protocol_level: u8,
        #[wire(bits = 7..8, packed = u8, carrier = connect_flags, present = "username")]
        has_username: bool,
        #[wire(bits = 6..7, present = "password")]
        has_password: bool,
        #[wire(bits = 5..6)]
        will_retain: bool,
        #[wire(bits = 3..5)]
        will_qos: QoS,
        #[wire(bits = 2..3, present = "will")]
        has_will: bool,
        /// Clean session (3.1.1), clean start (5.0).
        #[wire(bits = 1..2)]
        clean_start: bool,
        #[wire(bits = 0..1, constant = 0)]
        flags_reserved: u8,
        /// Seconds; 0 turns the keepalive off.
        keep_alive: u16,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(prefix = u16)]
        client_id: Str,
        #[wire(if = "has_will")]
        will: Option<Will>,
        #[wire(prefix = u16, if = "has_username")]
        username: Option<Str>,
        #[wire(prefix = u16, if = "has_password")]
        password: Option<Bytes>,
    }

    /// CONNACK (§3.2): the server's answer to CONNECT.
    pub struct ConnAck {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 2)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        #[wire(bits = 0..1, packed = u8, carrier = ack_flags)]
        session_present: bool,
        #[wire(bits = 1..8, constant = 0)]
        ack_reserved: u8,
        /// The connect return code (3.1.1: 0 accepted, 1–5 refused) or reason code (5.0).
        code: u8,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
    }

    /// PUBLISH (§3.3): an application message, in either direction.
    pub struct Publish {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 3)]
        kind: u8,
        #[wire(bits = 3..4)]
        dup: bool,
        #[wire(bits = 1..3)]
        qos: QoS,
        #[wire(bits = 0..1)]
        retain: bool,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        #[wire(prefix = u16)]
        topic: Str,
        /// Present when QoS is 1 or 2.
        #[wire(if = "qos > 0")]
        packet_id: Option<u16>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(rest)]
        payload: Bytes,
    }

    /// PUBACK (§3.4): the answer to a QoS 1 PUBLISH. In 5.0 the reason code and properties
    /// may be left out (success, no properties).
    pub struct PubAck {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 4)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(if = "@version >= 5 && @more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5 && @more")]
        properties: Option<Box<Properties>>,
    }

    /// PUBREC (§3.5): the first answer to a QoS 2 PUBLISH.
    pub struct PubRec {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 5)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(if = "@version >= 5 && @more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5 && @more")]
        properties: Option<Box<Properties>>,
    }

    /// PUBREL (§3.6): the answer to PUBREC.
    pub struct PubRel {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 6)]
        kind: u8,
        #[wire(bits = 0..4, constant = 2)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(if = "@version >= 5 && @more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5 && @more")]
        properties: Option<Box<Properties>>,
    }

    /// PUBCOMP (§3.7): the answer to PUBREL, completing QoS 2.
    pub struct PubComp {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 7)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(if = "@version >= 5 && @more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5 && @more")]
        properties: Option<Box<Properties>>,
    }

    /// A topic filter and its options in SUBSCRIBE (§3.8.3.1).
    pub struct Subscription {
        #[wire(prefix = u16)]
        filter: Str,
        /// 5.0: what to do with retained messages (0 send, 1 send if new, 2 do not).
        #[wire(bits = 4..6, packed = u8, carrier = options)]
        retain_handling: u8,
        /// 5.0: keep the RETAIN flag as published.
        #[wire(bits = 3..4)]
        retain_as_published: bool,
        /// 5.0: do not send the client's own publications back.
        #[wire(bits = 2..3)]
        no_local: bool,
        #[wire(bits = 0..2)]
        max_qos: QoS,
        #[wire(bits = 6..8, constant = 0)]
        options_reserved: u8,
    }

    /// SUBSCRIBE (§3.8).
    pub struct Subscribe {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 8)]
        kind: u8,
        #[wire(bits = 0..4, constant = 2)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(rest)]
        subscriptions: Vec<Subscription>,
    }

    /// SUBACK (§3.9): one code per subscription (3.1.1: 0, 1, 2 or 0x80 failure).
    pub struct SubAck {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 9)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(rest)]
        codes: Vec<ReasonCode>,
    }

    /// UNSUBSCRIBE (§3.10).
    pub struct Unsubscribe {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 10)]
        kind: u8,
        #[wire(bits = 0..4, constant = 2)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(rest, elem(prefix = u16))]
        filters: Vec<Str>,
    }

    /// UNSUBACK (§3.11): in 5.0 one reason code per filter; in 3.1.1 none.
    pub struct UnsubAck {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 11)]
        kind: u8,
        #[wire(bits = 0..4, constant = 0)]
        reserved: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        packet_id: u16,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5")]
        properties: Option<Box<Properties>>,
        #[wire(rest)]
        codes: Vec<ReasonCode>,
    }

    /// PINGREQ (§3.12).
    pub struct PingReq {
        #[wire(constant = 0xC0)]
        header: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
    }

    /// PINGRESP (§3.13).
    pub struct PingResp {
        #[wire(constant = 0xD0)]
        header: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
    }

    /// DISCONNECT (§3.14): in 5.0 either side may send it, with an optional reason.
    pub struct Disconnect {
        #[wire(constant = 0xE0)]
        header: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        #[wire(if = "@version >= 5 && @more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@version >= 5 && @more")]
        properties: Option<Box<Properties>>,
    }

    /// AUTH (§3.15, 5.0 only): extended authentication.
    pub struct Auth {
        #[wire(constant = 0xF0)]
        header: u8,
        #[wire(len = "..", varint, max = 268435455)]
        length: u64,
        #[wire(if = "@more")]
        reason: Option<ReasonCode>,
        #[wire(sized_by = "varint<max = 268435455>", if = "@more")]
        properties: Option<Box<Properties>>,
    }

    /// Every control packet, told apart by the packet type in the high nibble of its
    /// first byte.
    #[wire(union, frame)]
    pub enum Packet {
        Connect(Connect),
        ConnAck(ConnAck),
        Publish(Publish),
        PubAck(PubAck),
        PubRec(PubRec),
        PubRel(PubRel),
        PubComp(PubComp),
        Subscribe(Subscribe),
        SubAck(SubAck),
        Unsubscribe(Unsubscribe),
        UnsubAck(UnsubAck),
        PingReq(PingReq),
        PingResp(PingResp),
        Disconnect(Disconnect),
        Auth(Auth),
    }
}
