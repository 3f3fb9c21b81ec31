{% for d in docs %}
#[doc = {{ d }}]
{% if loop.last %}
#[doc = ""]
{% endif %}
{% endfor %}
#[doc = " Carried as strings in a header map; see `to_fields` and `from_fields`."]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct {{ name }} {
    {% for f in fields %}
    {% for d in f.docs %}
    #[doc = {{ d }}]
    {% endfor %}
    pub {{ f.name }}: {{ f.ty }},
    {% endfor %}
}
