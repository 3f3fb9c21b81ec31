{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` message."]
{% endfor %}
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct {{ name }} {
    {% for f in fields %}
    {% for d in f.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    pub {{ f.name }}: {{ f.ty }},
    {% endfor %}
}

impl ::polywire::__private::WireMessage for {{ name }} {
    fn decode_from(__r: &mut ::polywire::__private::Reader) -> ::std::result::Result<Self, ::polywire::__private::DecodeError> {
        {{ decode }}
    }

    fn encode_to(&self, dst: &mut ::polywire::__private::BytesMut) -> ::std::result::Result<(), ::polywire::__private::EncodeError> {
        {{ encode }}
    }
}

impl {{ name }} {
    /// Number of bytes [`encode_to`](::polywire::WireMessage::encode_to) writes.
    pub fn encoded_len(&self) -> usize {
        {{ size }}
    }
    {{ extra }}
}
