{% if definition %}
{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` enum."]
{% endfor %}
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash{% if !variants.is_empty() %}, Default{% endif %})]
{{ crate::emit::rust::camel_allow(name) }}
pub enum {{ name }} {
    {% for v in variants %}
    {% if loop.first %}#[default]{% endif %}
    {% for d in v.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    #[doc = {{ v.value_doc }}]
    {{ v.rust }},
    {% endfor %}
    {% if open %}
    /// A value no variant names, kept as received.
    Unknown({{ repr }}),
    {% endif %}
}

{% if variants.is_empty() && open %}
impl ::std::default::Default for {{ name }} {
    fn default() -> Self {
        {{ name }}::Unknown(0)
    }
}

{% endif %}
{% endif %}
impl {{ name }} {
    /// Every named variant.
    pub const ALL: &'static [{{ name }}] = &[{% for v in variants %}{{ name }}::{{ v.rust }},{% endfor %}];

    {% if open %}
    /// The variant for a wire value; unknown values are kept in `Unknown`.
    pub const fn from_repr(v: {{ repr }}) -> Self {
        {% if variants.is_empty() %}
        {{ name }}::Unknown(v)
        {% else %}
        match v {
            {% for v in variants %}{{ v.value }} => {{ name }}::{{ v.rust }},{% endfor %}
            other => {{ name }}::Unknown(other),
        }
        {% endif %}
    }
    {% else %}
    /// The variant for a wire value, if any.
    pub const fn from_repr(v: {{ repr }}) -> ::std::option::Option<Self> {
        {% if variants.is_empty() %}
        let _ = v;
        ::std::option::Option::None
        {% else %}
        match v {
            {% for v in variants %}{{ v.value }} => ::std::option::Option::Some({{ name }}::{{ v.rust }}),{% endfor %}
            _ => ::std::option::Option::None,
        }
        {% endif %}
    }
    {% endif %}

    /// The wire value.
    pub const fn to_repr(self) -> {{ repr }} {
        match self {
            {% for v in variants %}{{ name }}::{{ v.rust }} => {{ v.value }},{% endfor %}
            {% if open %}{{ name }}::Unknown(v) => v,{% endif %}
        }
    }

    /// The name declared in the protocol (`None` for unknown values).
    pub const fn name(self) -> ::std::option::Option<&'static str> {
        match self {
            {% for v in variants %}{{ name }}::{{ v.rust }} => ::std::option::Option::Some({{ v.name_lit }}),{% endfor %}
            {% if open %}{{ name }}::Unknown(_) => ::std::option::Option::None,{% endif %}
        }
    }

    /// The variant with a declared name.
    pub fn from_name(name: &str) -> ::std::option::Option<Self> {
        {% if variants.is_empty() %}
        let _ = name;
        ::std::option::Option::None
        {% else %}
        match name {
            {% for v in variants %}{{ v.name_lit }} => ::std::option::Option::Some({{ name }}::{{ v.rust }}),{% endfor %}
            _ => ::std::option::Option::None,
        }
        {% endif %}
    }
    {% if message %}

    /// Number of bytes [`encode_to`](::polywire::WireMessage::encode_to) writes.
    pub const fn encoded_len(&self) -> usize {
        {{ size }}
    }
    {% endif %}
}
{% if message %}

impl ::polywire::__private::WireMessage for {{ name }} {
    fn decode_from(__r: &mut ::polywire::__private::Reader<'_>) -> ::polywire::__private::DecodeResult<Self> {
        // An enum has no fields: its errors carry no path of their own, so in a field they
        // read as the field's path (`colour`), as where the protocol knows the enum.
        let mut __read = || -> ::polywire::__private::DecodeResult<Self> {
            ::std::result::Result::Ok({{ decode }})
        };
        __read().map_err(|mut __e| {
            __e.path.clear();
            __e
        })
    }

    fn write_to(&self, w: &mut ::polywire::__private::Writer<'_>) -> ::polywire::__private::EncodeResult {
        let mut dst = w.cursor();
        {{ encode }}
        ::std::result::Result::Ok(())
    }
}
{% endif %}

::polywire::__private::impl_wire_enum!({{ name }}, {{ repr }}, {% if open %}open{% else %}closed{% endif %});
