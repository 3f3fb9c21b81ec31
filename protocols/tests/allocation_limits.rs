//! Hostile length prefixes and counts must be rejected before anything of their size is
//! allocated. A counting allocator records the largest single allocation made while the
//! decoder runs.

use bytes::BytesMut;
use polywire::Codec;
use polywire_protocols::native::FrameCodec;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

struct Tracking;

static LARGEST: AtomicUsize = AtomicUsize::new(0);
static ON: AtomicBool = AtomicBool::new(false);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to the system allocator; the wrapper only reads
// the layout's size and updates atomics, which neither allocates nor touches the memory.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Decodes `bytes` and returns the largest allocation made meanwhile.
fn largest_allocation_decoding(bytes: &[u8]) -> usize {
    let mut buf = BytesMut::with_capacity(bytes.len());
    buf.extend_from_slice(bytes);
    let mut codec = FrameCodec::new();
    LARGEST.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
    let res = codec.decode(&mut buf);
    ON.store(false, Ordering::Relaxed);
    assert!(res.is_err(), "hostile input must be rejected: {res:?}");
    LARGEST.load(Ordering::Relaxed)
}

fn frame(inner: &[u8]) -> Vec<u8> {
    let mut out = b"PW\x01".to_vec();
    let mut len = BytesMut::new();
    polywire::wire::put_varint(&mut len, inner.len() as u64);
    out.extend_from_slice(&len);
    out.extend_from_slice(inner);
    out
}

#[test]
fn hostile_lengths_allocate_nothing_of_their_size() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Frame length of 1 GiB, nothing after it.
        ("frame length", b"PW\x01\x80\x80\x80\x80\x04".to_vec()),
        // 4000 header entries announced (under the count limit), 0 bytes present.
        ("entry count", frame(&[0, 1, 5, 0, 0xa0, 0x1f])),
        // 2^28 header entries announced.
        (
            "huge entry count",
            frame(&[0, 1, 5, 0, 0x80, 0x80, 0x80, 0x80, 1]),
        ),
        // One entry whose key claims 1 MiB (= the string limit) but 3 bytes follow.
        (
            "key length",
            frame(&[0, 1, 5, 0, 1, 0x80, 0x80, 0x40, b'a', b'b', b'c']),
        ),
    ];
    for (what, bytes) in cases {
        let largest = largest_allocation_decoding(&bytes);
        assert!(
            largest < 4096,
            "{what}: decoding allocated {largest} bytes at once"
        );
    }
}
