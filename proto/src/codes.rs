//! Message codes: the byte after the length prefix that names a frame's type.
//!
//! Every code Riak assigns is listed so a server can tell "known but not
//! served here" from garbage. Which codes a server answers, and how, is left
//! to the request layer (`crate::request`).

use std::fmt;

macro_rules! msg_codes {
    ($($variant:ident = $code:literal => $name:literal,)*) => {
        /// A Riak PB message code (`riak_pb_messages.csv`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum MsgCode {
            $(
                #[doc = concat!("`", $name, "` (code ", stringify!($code), ").")]
                $variant = $code,
            )*
        }

        impl MsgCode {
            /// Every assigned code, in ascending order.
            pub const ALL: &'static [MsgCode] = &[$(MsgCode::$variant,)*];

            /// The code for a raw byte, or `None` when Riak assigns nothing to it.
            pub const fn from_u8(code: u8) -> Option<MsgCode> {
                match code {
                    $($code => Some(MsgCode::$variant),)*
                    _ => None,
                }
            }

            /// Riak's message name for this code, e.g. `RpbGetReq`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(MsgCode::$variant => $name,)*
                }
            }
        }
    };
}

msg_codes! {
    ErrorResp = 0 => "RpbErrorResp",
    PingReq = 1 => "RpbPingReq",
    PingResp = 2 => "RpbPingResp",
    GetClientIdReq = 3 => "RpbGetClientIdReq",
    GetClientIdResp = 4 => "RpbGetClientIdResp",
    SetClientIdReq = 5 => "RpbSetClientIdReq",
    SetClientIdResp = 6 => "RpbSetClientIdResp",
    GetServerInfoReq = 7 => "RpbGetServerInfoReq",
    GetServerInfoResp = 8 => "RpbGetServerInfoResp",
    GetReq = 9 => "RpbGetReq",
    GetResp = 10 => "RpbGetResp",
    PutReq = 11 => "RpbPutReq",
    PutResp = 12 => "RpbPutResp",
    DelReq = 13 => "RpbDelReq",
    DelResp = 14 => "RpbDelResp",
    ListBucketsReq = 15 => "RpbListBucketsReq",
    ListBucketsResp = 16 => "RpbListBucketsResp",
    ListKeysReq = 17 => "RpbListKeysReq",
    ListKeysResp = 18 => "RpbListKeysResp",
    GetBucketReq = 19 => "RpbGetBucketReq",
    GetBucketResp = 20 => "RpbGetBucketResp",
    SetBucketReq = 21 => "RpbSetBucketReq",
    SetBucketResp = 22 => "RpbSetBucketResp",
    MapRedReq = 23 => "RpbMapRedReq",
    MapRedResp = 24 => "RpbMapRedResp",
    IndexReq = 25 => "RpbIndexReq",
    IndexResp = 26 => "RpbIndexResp",
    SearchQueryReq = 27 => "RpbSearchQueryReq",
    SearchQueryResp = 28 => "RpbSearchQueryResp",
    ResetBucketReq = 29 => "RpbResetBucketReq",
    ResetBucketResp = 30 => "RpbResetBucketResp",
    GetBucketTypeReq = 31 => "RpbGetBucketTypeReq",
    SetBucketTypeReq = 32 => "RpbSetBucketTypeReq",
    GetBucketKeyPreflistReq = 33 => "RpbGetBucketKeyPreflistReq",
    GetBucketKeyPreflistResp = 34 => "RpbGetBucketKeyPreflistResp",
    CsBucketReq = 40 => "RpbCSBucketReq",
    CsBucketResp = 41 => "RpbCSBucketResp",
    IndexBodyResp = 42 => "RpbIndexBodyResp",
    CounterUpdateReq = 50 => "RpbCounterUpdateReq",
    CounterUpdateResp = 51 => "RpbCounterUpdateResp",
    CounterGetReq = 52 => "RpbCounterGetReq",
    CounterGetResp = 53 => "RpbCounterGetResp",
    YokozunaIndexGetReq = 54 => "RpbYokozunaIndexGetReq",
    YokozunaIndexGetResp = 55 => "RpbYokozunaIndexGetResp",
    YokozunaIndexPutReq = 56 => "RpbYokozunaIndexPutReq",
    YokozunaIndexDeleteReq = 57 => "RpbYokozunaIndexDeleteReq",
    YokozunaSchemaGetReq = 58 => "RpbYokozunaSchemaGetReq",
    YokozunaSchemaGetResp = 59 => "RpbYokozunaSchemaGetResp",
    YokozunaSchemaPutReq = 60 => "RpbYokozunaSchemaPutReq",
    CoverageReq = 70 => "RpbCoverageReq",
    CoverageResp = 71 => "RpbCoverageResp",
    DtFetchReq = 80 => "DtFetchReq",
    DtFetchResp = 81 => "DtFetchResp",
    DtUpdateReq = 82 => "DtUpdateReq",
    DtUpdateResp = 83 => "DtUpdateResp",
    TsQueryReq = 90 => "TsQueryReq",
    TsQueryResp = 91 => "TsQueryResp",
    TsPutReq = 92 => "TsPutReq",
    TsPutResp = 93 => "TsPutResp",
    TsDelReq = 94 => "TsDelReq",
    TsDelResp = 95 => "TsDelResp",
    TsGetReq = 96 => "TsGetReq",
    TsGetResp = 97 => "TsGetResp",
    TsListKeysReq = 98 => "TsListKeysReq",
    TsListKeysResp = 99 => "TsListKeysResp",
    TsCoverageReq = 100 => "TsCoverageReq",
    TsCoverageResp = 101 => "TsCoverageResp",
    TsCoverageEntry = 102 => "TsCoverageEntry",
    TsRange = 103 => "TsRange",
    TsTtbMsg = 104 => "TsTtbMsg",
    ReplGetReq = 128 => "RpbReplGetReq",
    ReplGetClusterIdReq = 129 => "RpbReplGetClusterIdReq",
    ReplGetClusterIdResp = 130 => "RpbReplGetClusterIdResp",
    RteReq = 200 => "RpbRTEReq",
    RteResp = 201 => "RpbRTEResp",
    FetchReq = 202 => "RpbFetchReq",
    FetchResp = 203 => "RpbFetchResp",
    PushReq = 204 => "RpbPushReq",
    PushResp = 205 => "RpbPushResp",
    MembershipReq = 206 => "RpbMembershipReq",
    MembershipResp = 207 => "RpbMembershipResp",
    AaeFoldMergeRootNValReq = 210 => "RpbAaeFoldMergeRootNValReq",
    AaeFoldMergeBranchNValReq = 211 => "RpbAaeFoldMergeBranchNValReq",
    AaeFoldFetchClocksNValReq = 212 => "RpbAaeFoldFetchClocksNValReq",
    AaeFoldMergeTreesRangeReq = 213 => "RpbAaeFoldMergeTreesRangeReq",
    AaeFoldFetchClocksRangeReq = 214 => "RpbAaeFoldFetchClocksRangeReq",
    AaeFoldFindKeysReq = 215 => "RpbAaeFoldFindKeysReq",
    AaeFoldObjectStatsReq = 216 => "RpbAaeFoldObjectStatsReq",
    AaeFoldReplKeysReq = 217 => "RpbAaeFoldReplKeysReq",
    AaeFoldFindTombsReq = 218 => "RpbAaeFoldFindTombsReq",
    AaeFoldRepairKeysReq = 219 => "RpbAaeFoldRepairKeysReq",
    AaeFoldTreeResp = 220 => "RpbAaeFoldTreeResp",
    AaeFoldKeyValueResp = 221 => "RpbAaeFoldKeyValueResp",
    AaeFoldKeyCountResp = 222 => "RpbAaeFoldKeyCountResp",
    AaeFoldListBucketsReq = 223 => "RpbAaeFoldListBucketsReq",
    AaeFoldListBucketsResp = 224 => "RpbAaeFoldListBucketsResp",
    AaeFoldReapTombsReq = 230 => "RpbAaeFoldReapTombsReq",
    AaeFoldEraseKeysReq = 231 => "RpbAaeFoldEraseKeysReq",
    AuthReq = 253 => "RpbAuthReq",
    AuthResp = 254 => "RpbAuthResp",
    StartTls = 255 => "RpbStartTls",
}

impl MsgCode {
    /// The raw byte on the wire.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The code of the success reply to this request, where the pairing is
    /// fixed. Some replies are shared: bucket-type get/set answer with the
    /// bucket replies (20, 22); Yokozuna index/schema puts answer
    /// `RpbPutResp` and index deletes `RpbDelResp`; `RpbStartTls` is echoed.
    /// A 2i query with `return_body` answers `RpbIndexBodyResp` (42) instead
    /// of the 26 given here. Any request may instead be answered with
    /// `RpbErrorResp` (0). `None` for responses and for request families
    /// (TS, replication, AAE folds) whose pairing is not fixed here.
    pub const fn response_code(self) -> Option<MsgCode> {
        use MsgCode::*;
        Some(match self {
            PingReq => PingResp,
            GetClientIdReq => GetClientIdResp,
            SetClientIdReq => SetClientIdResp,
            GetServerInfoReq => GetServerInfoResp,
            GetReq => GetResp,
            PutReq => PutResp,
            DelReq => DelResp,
            ListBucketsReq => ListBucketsResp,
            ListKeysReq => ListKeysResp,
            GetBucketReq | GetBucketTypeReq => GetBucketResp,
            SetBucketReq | SetBucketTypeReq => SetBucketResp,
            MapRedReq => MapRedResp,
            IndexReq => IndexResp,
            SearchQueryReq => SearchQueryResp,
            ResetBucketReq => ResetBucketResp,
            GetBucketKeyPreflistReq => GetBucketKeyPreflistResp,
            CsBucketReq => CsBucketResp,
            CounterUpdateReq => CounterUpdateResp,
            CounterGetReq => CounterGetResp,
            YokozunaIndexGetReq => YokozunaIndexGetResp,
            YokozunaIndexPutReq | YokozunaSchemaPutReq => PutResp,
            YokozunaIndexDeleteReq => DelResp,
            YokozunaSchemaGetReq => YokozunaSchemaGetResp,
            CoverageReq => CoverageResp,
            DtFetchReq => DtFetchResp,
            DtUpdateReq => DtUpdateResp,
            AuthReq => AuthResp,
            StartTls => StartTls,
            _ => return None,
        })
    }

    /// Whether a replying server streams several frames for this request
    /// (always for list-keys and MapReduce; list-buckets and 2i only when
    /// the request sets `stream`).
    pub const fn may_stream(self) -> bool {
        matches!(
            self,
            MsgCode::ListKeysReq
                | MsgCode::ListBucketsReq
                | MsgCode::MapRedReq
                | MsgCode::IndexReq
                | MsgCode::CsBucketReq
        )
    }
}

impl From<MsgCode> for u8 {
    fn from(code: MsgCode) -> u8 {
        code as u8
    }
}

impl TryFrom<u8> for MsgCode {
    type Error = u8;

    /// Fails with the byte itself when no message has that code.
    fn try_from(code: u8) -> Result<MsgCode, u8> {
        MsgCode::from_u8(code).ok_or(code)
    }
}

impl fmt::Display for MsgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.as_u8())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_u8_round_trips_every_assigned_code() {
        for &code in MsgCode::ALL {
            assert_eq!(MsgCode::from_u8(code.as_u8()), Some(code));
            assert_eq!(MsgCode::try_from(u8::from(code)), Ok(code));
        }
        assert_eq!(MsgCode::ALL.len(), 101);
    }

    #[test]
    fn unassigned_bytes_are_rejected() {
        for byte in [
            35u8, 39, 43, 49, 61, 69, 72, 79, 84, 89, 105, 127, 131, 199, 252,
        ] {
            assert_eq!(MsgCode::from_u8(byte), None, "byte {byte}");
            assert_eq!(MsgCode::try_from(byte), Err(byte));
        }
    }

    #[test]
    fn codes_match_riak_numbering() {
        assert_eq!(MsgCode::ErrorResp.as_u8(), 0);
        assert_eq!(MsgCode::GetReq.as_u8(), 9);
        assert_eq!(MsgCode::IndexBodyResp.as_u8(), 42);
        assert_eq!(MsgCode::CounterGetResp.as_u8(), 53);
        assert_eq!(MsgCode::YokozunaSchemaPutReq.as_u8(), 60);
        assert_eq!(MsgCode::CoverageResp.as_u8(), 71);
        assert_eq!(MsgCode::DtUpdateResp.as_u8(), 83);
        assert_eq!(MsgCode::AuthReq.as_u8(), 253);
        assert_eq!(MsgCode::StartTls.as_u8(), 255);
        assert_eq!(MsgCode::CsBucketReq.name(), "RpbCSBucketReq");
        assert_eq!(MsgCode::DtFetchReq.to_string(), "DtFetchReq(80)");
    }

    #[test]
    fn all_is_sorted_and_unique() {
        assert!(MsgCode::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn response_pairing() {
        assert_eq!(MsgCode::GetReq.response_code(), Some(MsgCode::GetResp));
        assert_eq!(
            MsgCode::GetBucketTypeReq.response_code(),
            Some(MsgCode::GetBucketResp)
        );
        assert_eq!(
            MsgCode::SetBucketTypeReq.response_code(),
            Some(MsgCode::SetBucketResp)
        );
        assert_eq!(
            MsgCode::YokozunaIndexPutReq.response_code(),
            Some(MsgCode::PutResp)
        );
        assert_eq!(
            MsgCode::YokozunaIndexDeleteReq.response_code(),
            Some(MsgCode::DelResp)
        );
        assert_eq!(MsgCode::StartTls.response_code(), Some(MsgCode::StartTls));
        assert_eq!(MsgCode::GetResp.response_code(), None);
        assert_eq!(MsgCode::TsQueryReq.response_code(), None);
    }
}
