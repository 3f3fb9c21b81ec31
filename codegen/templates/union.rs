{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` union."]
{% endfor %}
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
{# Members are held inline, as the structs they are, whatever their sizes. #}
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
{{ allow }}
pub enum {{ name }} {
    {% for a in arms %}
    {% for d in a.docs %}
    #[doc = {{ d }}]
    {% else %}
    #[doc = " A [`{{ a.name }}`]."]
    {% endfor %}
    {{ a.name }}({{ a.name }}),
    {% endfor %}
}
{% if let Some(first) = arms.first() %}

/// The first member's default.
impl ::std::default::Default for {{ name }} {
    fn default() -> Self {
        Self::{{ first.name }}(::std::default::Default::default())
    }
}
{% endif %}
{% for a in arms %}

impl ::std::convert::From<{{ a.name }}> for {{ name }} {
    fn from(m: {{ a.name }}) -> Self {
        Self::{{ a.name }}(m)
    }
}
{% endfor %}

impl ::polywire::__private::WireMessage for {{ name }} {
    fn decode_from(__r: &mut ::polywire::__private::Reader<'_>) -> ::polywire::__private::DecodeResult<Self> {
        {% if recursive %}
        // A member holds this union again: each level counts against `max_depth`.
        __r.enter({{ name_lit }})?;
        let __v = Self::decode_member(__r);
        __r.leave();
        __v
        {% else %}
        Self::decode_member(__r)
        {% endif %}
    }

    fn write_to(&self, w: &mut ::polywire::__private::Writer<'_>) -> ::polywire::__private::EncodeResult {
        match self {
            {% for a in arms %}
            {% if a.fallback %}
            Self::{{ a.name }}(m) => {
                // Bytes that start with another member's key would read back as that one.
                let __at = w.len();
                ::polywire::__private::WireMessage::write_to(m, w)?;
                let __word = w.cursor().with_bytes_mut(|b| b.get(__at..__at + {{ width }}).map(|s| {
                    {% if big %}
                    s.iter().fold(0u64, |k, x| k << 8 | u64::from(*x))
                    {% else %}
                    s.iter().rev().fold(0u64, |k, x| k << 8 | u64::from(*x))
                    {% endif %}
                }));
                match __word.map(|k| k & {{ mask }}) {
                    ::std::option::Option::Some(value @ {{ keyed }}) => ::std::result::Result::Err(::polywire::__private::EncodeError::ClaimedKey { path: {{ a.name_lit }}, value }),
                    _ => ::std::result::Result::Ok(()),
                }
            }
            {% else %}
            Self::{{ a.name }}(m) => ::polywire::__private::WireMessage::write_to(m, w),
            {% endif %}
            {% endfor %}
        }
    }
}

impl {{ name }} {
    /// Reads the member the first word names. The members tell themselves apart by the
    /// bits of their first word that are constant in every one of them{% if has_fallback %}; any other word is the `else` member's{% endif %}.
    #[inline]
    fn decode_member(__r: &mut ::polywire::__private::Reader<'_>) -> ::polywire::__private::DecodeResult<Self> {
        {% if let Some((client, server)) = sided %}
        // The side that sent the bytes picks the member.
        match __r.sender() {
            ::std::option::Option::Some(::polywire::__private::Sender::Client) => <{{ client }} as ::polywire::__private::WireMessage>::decode_from(__r).map(Self::{{ client }}),
            ::std::option::Option::Some(::polywire::__private::Sender::Server) => <{{ server }} as ::polywire::__private::WireMessage>::decode_from(__r).map(Self::{{ server }}),
            ::std::option::Option::None => ::std::result::Result::Err(__r.error({{ name_lit }}, ::polywire::__private::DecodeErrorKind::UnknownSender)),
        }
        {% else %}
        match __r.peek_word({{ width }}, {{ big }}, {{ name_lit }})? & {{ mask }} {
            {% for a in arms %}
            {% if !a.fallback %}
            {{ a.key }} => <{{ a.name }} as ::polywire::__private::WireMessage>::decode_from(__r).map(Self::{{ a.name }}).map_err(|e| e.within({{ a.name_lit }})),
            {% endif %}
            {% endfor %}
            {% for a in arms %}
            {% if a.fallback %}
            _ => <{{ a.name }} as ::polywire::__private::WireMessage>::decode_from(__r).map(Self::{{ a.name }}).map_err(|e| e.within({{ a.name_lit }})),
            {% endif %}
            {% endfor %}
            {% if !has_fallback %}
            other => ::std::result::Result::Err(__r.error({{ name_lit }}, ::polywire::__private::DecodeErrorKind::UnknownDiscriminator(other))),
            {% endif %}
        }
        {% endif %}
    }

    /// Number of bytes [`encode_to`](::polywire::WireMessage::encode_to) writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            {% for a in arms %}
            Self::{{ a.name }}(m) => m.encoded_len(),
            {% endfor %}
        }
    }
}
