/// The sans-IO codec for [`{{ name }}`]: finds frame boundaries, enforces the limits and
/// decodes without copying the payload.
#[derive(Debug, Clone)]
{{ crate::emit::rust::camel_allow(name) }}
pub struct {{ name }}Codec {
    /// Limits enforced while decoding.
    pub limits: ::polywire::Limits,
    /// The protocol version in effect (0 until one is agreed), which `if @version ...`
    /// layouts read.
    pub version: u32,
}

impl ::std::default::Default for {{ name }}Codec {
    fn default() -> Self {
        Self { limits: protocol_info::LIMITS, version: 0 }
    }
}

impl {{ name }}Codec {
    /// A codec with the protocol's declared limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec with other limits.
    pub fn with_limits(limits: ::polywire::Limits) -> Self {
        Self { limits, version: 0 }
    }

    /// The length of the frame at the front of `buf`, once its length field has arrived
    /// (`Ok(None)` before that). Rejects a frame over the limit as soon as its length is
    /// known.
    pub fn frame_len(&self, buf: &[u8]) -> ::std::result::Result<::std::option::Option<usize>, ::polywire::DecodeError> {
        let mut off = 0usize;
        {{ probe }}
    }
}

impl ::polywire::Codec for {{ name }}Codec {
    type Frame = {{ name }};

    fn decode(&mut self, src: &mut ::polywire::__private::BytesMut) -> ::std::result::Result<::std::option::Option<{{ name }}>, ::polywire::DecodeError> {
        let mut frame = ::std::option::Option::None;
        self.decode_batch(src, 1, |f| frame = ::std::option::Option::Some(f))?;
        ::std::result::Result::Ok(frame)
    }

    fn decode_batch<F: ::std::ops::FnMut({{ name }})>(&mut self, src: &mut ::polywire::__private::BytesMut, max: usize, mut f: F) -> ::std::result::Result<usize, ::polywire::DecodeError> {
        // The complete frames' boundaries first (up to 64 per call), so that they leave
        // `src` in one piece; an error in a later frame's prefix waits until the frames
        // before it are handed over.
        let mut ends = [0usize; 64];
        let (mut n, mut end, mut err) = (0usize, 0usize, ::std::option::Option::None);
        while n < max.min(ends.len()) {
            match self.frame_len(&src[end..]) {
                ::std::result::Result::Ok(::std::option::Option::Some(total)) if src.len() - end >= total => {
                    end += total;
                    ends[n] = end;
                    n += 1;
                }
                ::std::result::Result::Ok(::std::option::Option::Some(total)) => {
                    if n == 0 {
                        src.reserve(total - src.len());
                    }
                    break;
                }
                ::std::result::Result::Ok(::std::option::Option::None) => break,
                ::std::result::Result::Err(e) => {
                    err = ::std::option::Option::Some(e);
                    break;
                }
            }
        }
        if n == 0 {
            return match err {
                ::std::option::Option::Some(e) => ::std::result::Result::Err(e),
                ::std::option::Option::None => ::std::result::Result::Ok(0),
            };
        }
        let chunk = src.split_to(end).freeze();
        let mut start = 0;
        for &end in &ends[..n] {
            let mut r = ::polywire::__private::Reader::within(&chunk, start..end, self.limits).with_version(self.version);
            let frame = <{{ name }} as ::polywire::WireMessage>::decode_from(&mut r).map_err(|e| e.within({{ name_lit }}))?;
            r.finish({{ name_lit }})?;
            f(frame);
            start = end;
        }
        match err {
            ::std::option::Option::Some(e) => ::std::result::Result::Err(e),
            ::std::option::Option::None => ::std::result::Result::Ok(n),
        }
    }

    fn encode(&mut self, frame: &{{ name }}, dst: &mut ::polywire::__private::BytesMut) -> ::std::result::Result<(), ::polywire::EncodeError> {
        let start = dst.len();
        ::polywire::WireMessage::encode_versioned(frame, dst, self.version)?;
        if let ::std::result::Result::Err(e) = ::polywire::__private::check_encode_len(dst.len() - start, self.limits.max_frame_len as u64, {{ name_lit }}) {
            // Leave `dst` as it was: a frame over the limit must not leave its bytes behind.
            dst.truncate(start);
            return ::std::result::Result::Err(e);
        }
        ::std::result::Result::Ok(())
    }

    fn frame_len(&self, buf: &[u8]) -> ::std::result::Result<::std::option::Option<usize>, ::polywire::DecodeError> {
        {{ name }}Codec::frame_len(self, buf)
    }

    fn limits(&self) -> &::polywire::Limits {
        &self.limits
    }

    fn set_version(&mut self, version: u32) {
        self.version = version;
    }
}
{{ extra }}
