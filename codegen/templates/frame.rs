/// The sans-IO codec for [`{{ name }}`]: finds frame boundaries, enforces the limits and
/// decodes without copying the payload.
{{ crate::emit::rust::camel_allow(name) }}
pub type {{ name }}Codec = ::polywire::FramedCodec<{{ name }}>;

impl ::polywire::Framed for {{ name }} {
    const NAME: &'static str = {{ name_lit }};
    const LIMITS: ::polywire::Limits = protocol_info::LIMITS;
    {% if delimited %}
    const SELF_DELIMITED: bool = true;
    {% endif %}

    {% if sided %}
    fn frame_len(buf: &[u8], limits: &::polywire::__private::Limits) -> ::polywire::__private::DecodeResult<::std::option::Option<usize>> {
        Self::frame_len_from(buf, limits, ::std::option::Option::None)
    }

    fn frame_len_from(buf: &[u8], limits: &::polywire::__private::Limits, sender: ::std::option::Option<::polywire::Sender>) -> ::polywire::__private::DecodeResult<::std::option::Option<usize>> {
        {{ probe }}
    }
    {% else %}
    fn frame_len(buf: &[u8], limits: &::polywire::__private::Limits) -> ::polywire::__private::DecodeResult<::std::option::Option<usize>> {
        {{ probe }}
    }
    {% endif %}
}
