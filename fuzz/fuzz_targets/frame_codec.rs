//! Arbitrary bytes through the frame decoder, fed in chunks whose size comes
//! from the first input byte. Every frame it yields must respect the limit
//! and re-encode to exactly the bytes it consumed.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rill_proto::{FrameCodec, Request, Response};
use tokio_util::codec::Decoder;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut codec = FrameCodec::new(MAX);
    let mut buf = BytesMut::new();
    let mut reencoded = Vec::new();
    let mut consumed = 0usize;
    'feed: for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.len_field() <= MAX);
                    consumed += before - buf.len();
                    reencoded.extend_from_slice(&frame.to_bytes());
                    let _ = Request::decode(&frame);
                    let _ = Response::decode(&frame);
                }
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    assert_eq!(&reencoded[..], &input[..consumed]);
});
