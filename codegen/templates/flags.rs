{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` flags."]
{% endfor %}
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
{{ crate::emit::rust::camel_allow(name) }}
pub struct {{ name }}(pub {{ repr }});

impl {{ name }} {
    {% for b in bits %}
    {% for d in b.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    #[doc = " Bit {{ b.bit }} (`{{ b.name }}`)."]
    {% for d in b.at %}
    #[doc = {{ d }}]
    {% endfor %}
    pub const {{ b.name }}: Self = Self({{ b.value }});
    {% endfor %}

    /// No bit set.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// From the raw value; unknown bits are kept.
    #[inline]
    pub const fn from_bits(bits: {{ repr }}) -> Self {
        Self(bits)
    }

    /// The raw value.
    #[inline]
    pub const fn bits(self) -> {{ repr }} {
        self.0
    }

    /// True when every bit of `other` is set.
    #[inline]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the bits of `other`.
    #[inline]
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Clears the bits of `other`.
    #[inline]
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }
}

impl ::std::ops::BitOr for {{ name }} {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}
