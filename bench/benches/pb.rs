//! The Protocol Buffers wire path for a 1 KiB value: `FrameCodec` framing
//! alone, and whole messages (prost plus framing) for the two frames that
//! carry values, `RpbPutReq` (client to server) and `RpbGetResp` (server to
//! client), in the direction the server handles them and the other one.

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rill_proto::messages::{RpbContent, RpbGetResp, RpbPutReq};
use rill_proto::{Frame, FrameCodec, Request, Response};
use std::hint::black_box;
use std::time::Duration;
use tokio_util::codec::{Decoder, Encoder};

const VALUE_LEN: usize = 1024;
/// A context of three actors, about the size a 3-replica object carries.
const VCLOCK: [u8; 28] = [1; 28];

fn content() -> RpbContent {
    RpbContent {
        value: vec![b'x'; VALUE_LEN],
        content_type: Some(b"application/json".to_vec()),
        vtag: Some(b"4f2MwQn0XhzbDcsc1Nq5Ev".to_vec()),
        last_mod: Some(1_700_000_000),
        last_mod_usecs: Some(123_456),
        ..RpbContent::default()
    }
}

fn put_req() -> RpbPutReq {
    RpbPutReq {
        bucket: b"users".to_vec(),
        key: Some(b"user-000042".to_vec()),
        vclock: Some(VCLOCK.to_vec()),
        content: content(),
        ..RpbPutReq::default()
    }
}

fn get_resp() -> RpbGetResp {
    RpbGetResp {
        content: vec![content()],
        vclock: Some(VCLOCK.to_vec()),
        unchanged: None,
    }
}

/// The frame as it arrives on a socket: prefix, code, body.
fn wire(frame: &Frame) -> Bytes {
    let mut buf = BytesMut::new();
    FrameCodec::default().encode(frame, &mut buf).unwrap();
    buf.freeze()
}

fn decode_frame(bytes: &Bytes) -> Frame {
    let mut src = BytesMut::from(&bytes[..]);
    FrameCodec::default().decode(&mut src).unwrap().unwrap()
}

fn framing(c: &mut Criterion) {
    let frame = Response::Get(get_resp()).encode();
    let bytes = wire(&frame);
    let mut g = c.benchmark_group("pb_frame");
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = BytesMut::with_capacity(2 * bytes.len());
    g.bench_function("codec_encode", |b| {
        b.iter(|| {
            out.clear();
            FrameCodec::default()
                .encode(black_box(&frame), &mut out)
                .unwrap();
        })
    });
    g.bench_function("codec_decode", |b| {
        b.iter_batched(
            || BytesMut::from(&bytes[..]),
            |mut src| FrameCodec::default().decode(&mut src).unwrap().unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn messages(c: &mut Criterion) {
    let put = put_req();
    let put_wire = wire(&Request::Put(put.clone()).encode());
    let resp = Response::Get(get_resp());
    let resp_wire = wire(&resp.encode());
    let mut g = c.benchmark_group("pb_message");
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("put_req_decode", |b| {
        b.iter_batched(
            || BytesMut::from(&put_wire[..]),
            |mut src| {
                let frame = FrameCodec::default().decode(&mut src).unwrap().unwrap();
                Request::decode(&frame).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    let put_frame = decode_frame(&put_wire);
    g.bench_function("put_req_prost_decode", |b| {
        b.iter(|| rill_proto::decode_msg::<RpbPutReq>(black_box(&put_frame)).unwrap())
    });
    let mut out = BytesMut::with_capacity(2 * resp_wire.len());
    g.bench_function("get_resp_encode", |b| {
        b.iter(|| {
            out.clear();
            let frame = black_box(&resp).encode();
            FrameCodec::default().encode(frame, &mut out).unwrap();
        })
    });
    g.bench_function("put_req_encode", |b| {
        b.iter(|| Frame::from_msg(black_box(&put)))
    });
    let resp_frame = decode_frame(&resp_wire);
    g.bench_function("get_resp_prost_decode", |b| {
        b.iter(|| rill_proto::decode_msg::<RpbGetResp>(black_box(&resp_frame)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, framing, messages);
criterion_main!(benches);
