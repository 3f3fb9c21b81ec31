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

{% if !bits.is_empty() %}
impl {{ name }} {
    {% for b in bits %}
    {% for d in b.docs %}
    #[doc = {{ d }}]
    {% else %}
    #[doc = " Bit {{ b.bit }} (`{{ b.name }}`)."]
    {% endfor %}
    pub const {{ b.name }}: Self = Self({{ b.value }});
    {% endfor %}
}
{% endif %}

::polywire::__private::impl_flags!({{ name }}, {{ repr }});
