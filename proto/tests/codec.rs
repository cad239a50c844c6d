//! Frame codec behaviour: partial input, several frames per read, the
//! length limit, empty frames, unknown codes and malformed bodies.

use bytes::{BufMut, BytesMut};
use proptest::prelude::*;
use rill_proto::messages::*;
use rill_proto::{
    DEFAULT_MAX_FRAME_LEN, Frame, FrameCodec, MsgCode, ProtoError, Request, Response, decode_msg,
    encode_msg,
};
use tokio_util::codec::{Decoder, Encoder};

fn get_frame() -> Frame {
    encode_msg(
        MsgCode::GetReq,
        &RpbGetReq {
            bucket: b"bucket".to_vec(),
            key: b"key".to_vec(),
            r: Some(2),
            ..Default::default()
        },
    )
}

#[test]
fn frame_split_across_reads_waits_for_the_rest() {
    let wire = get_frame().to_bytes();
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    for (i, byte) in wire.iter().enumerate() {
        buf.put_u8(*byte);
        let out = codec.decode(&mut buf).unwrap();
        if i + 1 < wire.len() {
            assert_eq!(
                out,
                None,
                "complete after {} of {} bytes",
                i + 1,
                wire.len()
            );
        } else {
            assert_eq!(out, Some(get_frame()));
        }
    }
    assert!(buf.is_empty());
}

#[test]
fn two_frames_in_one_buffer() {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&Request::Ping.encode().to_bytes());
    buf.extend_from_slice(&get_frame().to_bytes());
    let mut codec = FrameCodec::default();
    let first = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(Request::decode(&first).unwrap(), Request::Ping);
    let second = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(second, get_frame());
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
}

#[test]
fn length_over_limit_fails_on_the_prefix_alone() {
    let mut codec = FrameCodec::new(16);
    let mut buf = BytesMut::with_capacity(4);
    buf.put_u32(17);
    let cap_before = buf.capacity();
    match codec.decode(&mut buf) {
        Err(ProtoError::FrameTooLarge { len: 17, max: 16 }) => {}
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
    assert_eq!(buf.capacity(), cap_before, "nothing reserved for the frame");
}

#[test]
fn limit_is_inclusive() {
    let mut codec = FrameCodec::new(3);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0, 0, 0, 3, 9, 0x0a, 0x00]);
    let frame = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(frame, Frame::new(9u8, vec![0x0a, 0x00]));
}

#[test]
fn huge_declared_length_is_refused_by_default_codec() {
    let mut codec = FrameCodec::default();
    assert_eq!(codec.max_frame_len(), 64 * 1024 * 1024);
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 0x09][..]);
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(matches!(
        err,
        ProtoError::FrameTooLarge {
            len: 0xffff_ffff,
            max: DEFAULT_MAX_FRAME_LEN
        }
    ));
}

#[test]
fn large_declared_length_does_not_reserve_it_up_front() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    buf.put_u32(60 * 1024 * 1024);
    buf.put_u8(11);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(
        buf.capacity() <= 256 * 1024,
        "reserved {} bytes for a frame not yet received",
        buf.capacity()
    );
}

#[test]
fn zero_length_is_an_error() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0u8, 0, 0, 0][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(ProtoError::EmptyFrame)
    ));
}

#[test]
fn short_prefix_waits() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0u8, 0, 0][..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert_eq!(buf.len(), 3, "nothing consumed");
}

#[test]
fn truncated_stream_at_eof_is_an_error() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0u8, 0, 0, 5, 9][..]);
    assert!(matches!(codec.decode_eof(&mut buf), Err(ProtoError::Io(_))));
}

#[test]
fn unknown_codes_decode_to_unknown() {
    for code in [35u8, 99, 150, 252] {
        let frame = Frame::new(code, vec![0xde, 0xad]);
        assert_eq!(Request::decode(&frame).unwrap(), Request::Unknown(code));
        assert_eq!(Response::decode(&frame).unwrap(), Response::Unknown(code));
    }
}

#[test]
fn codes_of_the_other_direction_or_unserved_families_are_unknown() {
    // A response code sent as a request, a TS request, an AAE fold request.
    for code in [
        MsgCode::GetResp,
        MsgCode::TsQueryReq,
        MsgCode::AaeFoldMergeRootNValReq,
    ] {
        let frame = Frame::empty(code);
        assert_eq!(
            Request::decode(&frame).unwrap(),
            Request::Unknown(code.as_u8())
        );
    }
    assert_eq!(
        Response::decode(&Frame::empty(MsgCode::GetReq)).unwrap(),
        Response::Unknown(9)
    );
}

#[test]
fn malformed_body_is_a_decode_error() {
    // Field 1 declared as 5 bytes long, but only 1 follows.
    let frame = Frame::new(MsgCode::GetReq, vec![0x0a, 0x05, b'b']);
    assert!(matches!(
        Request::decode(&frame),
        Err(ProtoError::Decode(_))
    ));
    // An empty message with a malformed body is rejected too.
    let frame = Frame::new(MsgCode::PingReq, vec![0xff]);
    assert!(matches!(
        Request::decode(&frame),
        Err(ProtoError::Decode(_))
    ));
    // The error text matches the prefix Riak uses in its reply.
    let err = Request::decode(&Frame::new(MsgCode::PutReq, vec![0x0a])).unwrap_err();
    assert!(
        err.to_string().starts_with("message decoding error"),
        "{err}"
    );
}

#[test]
fn encoder_writes_what_the_decoder_reads() {
    let mut codec = FrameCodec::new(1024);
    let mut buf = BytesMut::new();
    codec.encode(get_frame(), &mut buf).unwrap();
    codec
        .encode(&Frame::empty(MsgCode::PingResp), &mut buf)
        .unwrap();
    assert_eq!(&buf[..4], &[0, 0, 0, get_frame().len_field() as u8]);
    assert_eq!(codec.decode(&mut buf).unwrap(), Some(get_frame()));
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(Frame::empty(MsgCode::PingResp))
    );
}

#[test]
fn decode_msg_checks_the_code() {
    let frame = get_frame();
    let msg: RpbGetReq = decode_msg(&frame).unwrap();
    assert_eq!(msg.bucket, b"bucket");
    match decode_msg::<RpbPutReq>(&frame) {
        Err(ProtoError::UnexpectedCode {
            expected: 11,
            got: 9,
        }) => {}
        other => panic!("expected UnexpectedCode, got {other:?}"),
    }
}

proptest! {
    /// However the input is chunked, the decoder yields the same frames.
    #[test]
    fn chunking_does_not_change_the_frames(
        frames in prop::collection::vec(
            (any::<u8>(), prop::collection::vec(any::<u8>(), 0..40)),
            0..8,
        ),
        chunk in 1usize..17,
    ) {
        let frames: Vec<Frame> = frames.into_iter().map(|(c, b)| Frame::new(c, b)).collect();
        let mut wire = BytesMut::new();
        for f in &frames {
            f.write_to(&mut wire);
        }
        let mut codec = FrameCodec::new(64);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        prop_assert_eq!(out, frames);
        prop_assert!(buf.is_empty());
    }

    /// Arbitrary bytes never panic the decoder; it either waits, yields
    /// frames within the limit, or fails.
    #[test]
    fn arbitrary_input_never_panics(
        data in prop::collection::vec(any::<u8>(), 0..256),
        chunk in 1usize..33,
    ) {
        let mut codec = FrameCodec::new(100);
        let mut buf = BytesMut::new();
        'outer: for piece in data.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(frame)) => {
                        prop_assert!(frame.len_field() <= 100);
                        let _ = Request::decode(&frame);
                    }
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
        }
    }

    /// Any code with any body decodes to a request or an error, never a panic.
    #[test]
    fn request_decode_never_panics(code in any::<u8>(), body in prop::collection::vec(any::<u8>(), 0..64)) {
        let frame = Frame::new(code, body);
        if let Ok(req) = Request::decode(&frame) {
            prop_assert_eq!(req.code(), code);
        }
        let _ = Response::decode(&frame);
    }
}
