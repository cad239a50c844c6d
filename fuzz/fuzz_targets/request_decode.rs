//! An arbitrary code and body through `Request::decode` and
//! `Response::decode`. Whatever decodes must encode to bytes that decode to
//! the same value (checked on the bytes, so float NaNs compare equal).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rill_proto::{Frame, Request, Response};

fuzz_target!(|data: &[u8]| {
    let Some((&code, body)) = data.split_first() else {
        return;
    };
    let frame = Frame::new(code, body.to_vec());

    if let Ok(req) = Request::decode(&frame) {
        assert_eq!(req.code(), code);
        let once = req.encode();
        let twice = Request::decode(&once).expect("re-decode request").encode();
        assert_eq!(once, twice);
    }
    if let Ok(resp) = Response::decode(&frame) {
        assert_eq!(resp.code(), code);
        let once = resp.encode();
        let twice = Response::decode(&once)
            .expect("re-decode response")
            .encode();
        assert_eq!(once, twice);
    }
});
