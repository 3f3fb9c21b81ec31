{% for d in docs %}
#[doc = {{ d }}]
{% if loop.last %}
#[doc = ""]
{% endif %}
{% endfor %}
#[doc = " Carried as strings in a header map; see `to_fields` and `from_fields`."]
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
#[derive(Debug, Clone, PartialEq, Eq, Default)]
{{ crate::emit::rust::camel_allow(name) }}
pub struct {{ name }} {
    {% for f in fields %}
    {% for d in f.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    pub {{ f.name }}: {{ f.ty }},
    {% endfor %}
}
