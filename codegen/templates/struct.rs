{% if definition %}
{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` message."]
{% endfor %}
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
{% if defaults.is_empty() %}
#[derive(Debug, Clone, PartialEq, Eq, Default)]
{% else %}
#[derive(Debug, Clone, PartialEq, Eq)]
{% endif %}
{{ crate::emit::rust::camel_allow(name) }}
pub struct {{ name }} {
    {% for f in fields %}
    {% for d in f.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    pub {{ f.name }}: {{ f.ty }},
    {% endfor %}
}
{% if !defaults.is_empty() %}

impl ::std::default::Default for {{ name }} {
    fn default() -> Self {
        Self {
            {% for f in fields %}
            {{ f.name }}: {% if let Some(d) = f.default %}{{ d }}{% else %}::std::default::Default::default(){% endif %},
            {% endfor %}
        }
    }
}
{% endif %}
{% endif %}

impl ::polywire::__private::WireMessage for {{ name }} {
    {% if frame %}
    #[inline]
    {% endif %}
    fn decode_from(__r: &mut ::polywire::__private::Reader<'_>) -> ::polywire::__private::DecodeResult<Self> {
        {{ decode }}
    }

    fn write_to(&self, w: &mut ::polywire::__private::Writer<'_>) -> ::polywire::__private::EncodeResult {
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
