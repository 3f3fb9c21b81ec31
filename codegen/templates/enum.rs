{% for d in docs %}
#[doc = {{ d }}]
{% endfor %}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
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
    {% if variants.is_empty() %}#[default]{% endif %}
    Unknown({{ repr }}),
    {% endif %}
}

impl {{ name }} {
    /// Every named variant.
    pub const ALL: &'static [{{ name }}] = &[{% for v in variants %}{{ name }}::{{ v.rust }},{% endfor %}];

    {% if open %}
    /// The variant for a wire value; unknown values are kept in `Unknown`.
    pub const fn from_repr(v: {{ repr }}) -> Self {
        match v {
            {% for v in variants %}{{ v.value }} => {{ name }}::{{ v.rust }},{% endfor %}
            other => {{ name }}::Unknown(other),
        }
    }
    {% else %}
    /// The variant for a wire value, if any.
    pub const fn from_repr(v: {{ repr }}) -> ::std::option::Option<Self> {
        match v {
            {% for v in variants %}{{ v.value }} => ::std::option::Option::Some({{ name }}::{{ v.rust }}),{% endfor %}
            _ => ::std::option::Option::None,
        }
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
        match name {
            {% for v in variants %}{{ v.name_lit }} => ::std::option::Option::Some({{ name }}::{{ v.rust }}),{% endfor %}
            _ => ::std::option::Option::None,
        }
    }
}

impl ::polywire::WireEnum for {{ name }} {
    fn wire_name(self) -> ::std::option::Option<&'static str> {
        self.name()
    }

    fn from_wire_name(name: &str) -> ::std::option::Option<Self> {
        Self::from_name(name)
    }

    fn wire_value(self) -> i64 {
        self.to_repr() as i64
    }

    fn from_wire_value(v: i64) -> ::std::option::Option<Self> {
        let v = <{{ repr }}>::try_from(v).ok()?;
        {% if open %}::std::option::Option::Some(Self::from_repr(v)){% else %}Self::from_repr(v){% endif %}
    }
}
