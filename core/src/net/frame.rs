//! The inter-node wire frame: `[u32 BE length][u8 version][msgpack envelope]`.
//!
//! The length counts the version byte and the payload. Readers check it
//! against a limit before allocating anything; a frame that breaks the limit,
//! carries an unknown version or does not decode is an error for the caller
//! (the TCP transport closes the connection on it).

use super::Envelope;
use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;
use tokio_util::codec::LengthDelimitedCodec;

/// The only protocol version so far; also sent in `Hello`.
pub const PROTOCOL_VERSION: u8 = 1;

/// Default limit on a frame's length field (64 MiB).
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 << 20;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("empty frame")]
    Empty,
    #[error("unknown protocol version {0}")]
    Version(u8),
    #[error("undecodable envelope: {0}")]
    Decode(String),
    #[error("unencodable envelope: {0}")]
    Encode(String),
}

/// The codec that splits a byte stream into frame bodies (version byte and
/// payload, length prefix removed), refusing lengths above `max_frame_len`
/// before reading them.
pub fn codec(max_frame_len: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .big_endian()
        .max_frame_length(max_frame_len)
        .new_codec()
}

/// Encodes `env` as a complete frame, length prefix included.
pub fn encode(env: &Envelope, max_frame_len: usize) -> Result<Bytes, FrameError> {
    let payload = rmp_serde::to_vec_named(env).map_err(|e| FrameError::Encode(e.to_string()))?;
    let len = payload.len() + 1;
    if len > max_frame_len || len > u32::MAX as usize {
        return Err(FrameError::TooLarge {
            len,
            max: max_frame_len,
        });
    }
    let mut buf = BytesMut::with_capacity(4 + len);
    buf.put_u32(len as u32);
    buf.put_u8(PROTOCOL_VERSION);
    buf.put_slice(&payload);
    Ok(buf.freeze())
}

/// Decodes a frame body (what `codec` yields: version byte, then payload).
pub fn decode(body: &[u8]) -> Result<Envelope, FrameError> {
    let (&version, payload) = body.split_first().ok_or(FrameError::Empty)?;
    if version != PROTOCOL_VERSION {
        return Err(FrameError::Version(version));
    }
    rmp_serde::from_slice(payload).map_err(|e| FrameError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Msg;
    use bytes::BytesMut;
    use serde_bytes::ByteBuf;
    use tokio_util::codec::Decoder;

    fn envs() -> Vec<Envelope> {
        let from = "a@127.0.0.1".to_string();
        vec![
            Envelope {
                from: from.clone(),
                msg: Msg::Hello {
                    node: from.clone(),
                    cluster_addr: "127.0.0.1:8099".into(),
                    protocol: 1,
                },
            },
            Envelope {
                from: from.clone(),
                msg: Msg::Request {
                    id: u64::MAX,
                    service: 2,
                    payload: vec![0xc8; 100],
                },
            },
            Envelope {
                from: from.clone(),
                msg: Msg::Reply {
                    id: 7,
                    result: Ok(ByteBuf::from(vec![1, 2, 3])),
                },
            },
            Envelope {
                from: from.clone(),
                msg: Msg::Reply {
                    id: 8,
                    result: Err("boom".into()),
                },
            },
            Envelope {
                from,
                msg: Msg::Cast {
                    service: 1,
                    payload: vec![],
                },
            },
        ]
    }

    #[test]
    fn frames_round_trip_through_the_codec() {
        let mut stream = BytesMut::new();
        for env in envs() {
            stream.extend_from_slice(&encode(&env, DEFAULT_MAX_FRAME_LEN).unwrap());
        }
        let mut codec = codec(DEFAULT_MAX_FRAME_LEN);
        let mut got = Vec::new();
        while let Some(body) = codec.decode(&mut stream).unwrap() {
            got.push(decode(&body).unwrap());
        }
        assert_eq!(got, envs());
    }

    #[test]
    fn payload_bytes_are_a_msgpack_bin_not_an_array() {
        let env = &envs()[1];
        let frame = encode(env, DEFAULT_MAX_FRAME_LEN).unwrap();
        // 100 payload bytes as `bin 8` (0xc4 0x64 …), not 100 integers.
        let needle = [0xc4, 100, 0xc8, 0xc8];
        assert!(frame.windows(4).any(|w| w == needle));
        assert!(frame.len() < 200, "frame is {} bytes", frame.len());
    }

    #[test]
    fn golden_cast_frame() {
        let env = Envelope {
            from: "a".into(),
            msg: Msg::Cast {
                service: 1,
                payload: vec![9],
            },
        };
        let frame = encode(&env, DEFAULT_MAX_FRAME_LEN).unwrap();
        let mut want = vec![0, 0, 0, 40, 1];
        // {"from": "a", "msg": {"Cast": {"service": 1, "payload": bin[9]}}}
        want.extend_from_slice(&[0x82, 0xa4]);
        want.extend_from_slice(b"from");
        want.extend_from_slice(&[0xa1, b'a', 0xa3]);
        want.extend_from_slice(b"msg");
        want.extend_from_slice(&[0x81, 0xa4]);
        want.extend_from_slice(b"Cast");
        want.extend_from_slice(&[0x82, 0xa7]);
        want.extend_from_slice(b"service");
        want.extend_from_slice(&[0x01, 0xa7]);
        want.extend_from_slice(b"payload");
        want.extend_from_slice(&[0xc4, 0x01, 0x09]);
        assert_eq!(frame.as_ref(), want.as_slice());
    }

    #[test]
    fn oversized_length_is_refused_before_reading_the_body() {
        let mut codec = codec(1024);
        let mut buf = BytesMut::new();
        buf.put_u32(1025);
        buf.put_u8(PROTOCOL_VERSION);
        assert!(codec.decode(&mut buf).is_err());
        let big = Envelope {
            from: "a".into(),
            msg: Msg::Cast {
                service: 1,
                payload: vec![0; 2000],
            },
        };
        assert!(matches!(
            encode(&big, 1024),
            Err(FrameError::TooLarge { max: 1024, .. })
        ));
    }

    #[test]
    fn unknown_version_and_garbage_are_errors() {
        assert_eq!(decode(&[]), Err(FrameError::Empty));
        assert_eq!(decode(&[2, 0x80]), Err(FrameError::Version(2)));
        assert!(matches!(
            decode(&[1, 0xc1, 0xff]),
            Err(FrameError::Decode(_))
        ));
        // A well-formed map that is not an envelope.
        assert!(matches!(decode(&[1, 0x80]), Err(FrameError::Decode(_))));
    }
}
