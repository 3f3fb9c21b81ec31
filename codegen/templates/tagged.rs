{% for d in docs %}
#[doc = {{ d }}]
{% else %}
#[doc = " The `{{ name }}` tagged list."]
{% endfor %}
{% for d in at %}
#[doc = {{ d }}]
{% endfor %}
{% for a in attrs %}
{{ a }}
{% endfor %}
#[derive(Debug, Clone, PartialEq, Eq, Default)]
{{ crate::emit::rust::camel_allow(name) }}
pub struct {{ name }} {
    {% for m in members %}
    {% for d in m.docs %}
    #[doc = {{ d }}]
    {% else %}
    #[doc = " The `{{ m.name }}` member."]
    {% endfor %}
    #[doc = " Tag `{{ m.tag }}`{% if m.repeated %}, repeated{% endif %}."]
    pub {{ m.name }}: {{ m.ty }},
    {% endfor %}
}

impl ::polywire::__private::WireMessage for {{ name }} {
    fn decode_from(__r: &mut ::polywire::__private::Reader<'_>) -> ::polywire::__private::DecodeResult<Self> {
        let mut m = Self::default();
        while __r.remaining() > 0 {
            let at = __r.offset();
            match {{ read_tag }} {
                {% for m in members %}
                {{ m.tag }} => {
                    {% if m.repeated %}
                    __r.check_more(m.{{ m.name }}.len(), {{ m.name_lit }})?;
                    m.{{ m.name }}.push({{ m.decode }});
                    {% else %}
                    if m.{{ m.name }}.is_some() {
                        return ::std::result::Result::Err(::polywire::__private::DecodeError::new(at, {{ m.name_lit }}, ::polywire::__private::DecodeErrorKind::DuplicateTag({{ m.tag }})));
                    }
                    m.{{ m.name }} = ::std::option::Option::Some({{ m.decode }});
                    {% endif %}
                }
                {% endfor %}
                other => return ::std::result::Result::Err(::polywire::__private::DecodeError::new(at, {{ name_lit }}, ::polywire::__private::DecodeErrorKind::UnknownTag(other))),
            }
        }
        ::std::result::Result::Ok(m)
    }

    fn write_to(&self, w: &mut ::polywire::__private::Writer<'_>) -> ::polywire::__private::EncodeResult {
        let mut dst = w.cursor();
        {% for m in members %}
        {% if m.repeated %}
        for x in &self.{{ m.name }} {
            {{ m.encode }}
        }
        {% else %}
        if let ::std::option::Option::Some(x) = &self.{{ m.name }} {
            {{ m.encode }}
        }
        {% endif %}
        {% endfor %}
        ::std::result::Result::Ok(())
    }
}

impl {{ name }} {
    /// Number of bytes [`encode_to`](::polywire::WireMessage::encode_to) writes.
    pub fn encoded_len(&self) -> usize {
        {{ size }}
    }
}
