//! The macro behind `Request` and `Response`: an enum with one variant per
//! message code, plus decoding from and encoding to frames.
//!
//! Field-less messages become unit variants; any body they carry must still
//! be valid protobuf (unknown fields are skipped).

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident;
        empty { $($evar:ident: $ety:ident = $ecode:ident,)* }
        data { $($dvar:ident($dty:ident) = $dcode:ident,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)] // one value per frame, moved once
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($ety), "` (no fields).")]
                $evar,
            )*
            $(
                #[doc = concat!("`", stringify!($dty), "`.")]
                $dvar($crate::messages::$dty),
            )*
            /// A code outside this direction's set: unassigned, a message
            /// of the other direction, or a family not served (TS,
            /// replication, AAE folds).
            Unknown(u8),
        }

        impl $name {
            /// Every code decoded into a variant other than `Unknown`.
            pub const CODES: &'static [$crate::codes::MsgCode] = &[
                $($crate::codes::MsgCode::$ecode,)*
                $($crate::codes::MsgCode::$dcode,)*
            ];

            /// Decodes a frame by its code. Codes outside [`Self::CODES`]
            /// give `Unknown`; a body that does not decode is an error.
            pub fn decode(frame: &$crate::frame::Frame) -> $crate::error::Result<$name> {
                use $crate::codes::MsgCode;
                let Some(code) = MsgCode::from_u8(frame.code) else {
                    return Ok($name::Unknown(frame.code));
                };
                Ok(match code {
                    $(MsgCode::$ecode => {
                        $crate::frame::decode_body::<$crate::messages::$ety>(frame)?;
                        $name::$evar
                    })*
                    $(MsgCode::$dcode => {
                        $name::$dvar($crate::frame::decode_body(frame)?)
                    })*
                    #[allow(unreachable_patterns)]
                    _ => $name::Unknown(frame.code),
                })
            }

            /// The raw code this value travels under.
            pub fn code(&self) -> u8 {
                use $crate::codes::MsgCode;
                match self {
                    $($name::$evar => MsgCode::$ecode.as_u8(),)*
                    $($name::$dvar(_) => MsgCode::$dcode.as_u8(),)*
                    $name::Unknown(code) => *code,
                }
            }

            /// Encodes into a frame; field-less messages get an empty body.
            /// `Unknown` encodes as its code alone.
            pub fn encode(&self) -> $crate::frame::Frame {
                use $crate::codes::MsgCode;
                match self {
                    $($name::$evar => $crate::frame::Frame::empty(MsgCode::$ecode),)*
                    $($name::$dvar(msg) => $crate::frame::encode_msg(MsgCode::$dcode, msg),)*
                    $name::Unknown(code) => $crate::frame::Frame::empty(*code),
                }
            }
        }

        $(
            impl From<$crate::messages::$dty> for $name {
                fn from(msg: $crate::messages::$dty) -> $name {
                    $name::$dvar(msg)
                }
            }
        )*
    };
}
