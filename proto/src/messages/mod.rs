//! Rust definitions of Riak's PB messages, one module per API area, with
//! Riak's message names, field numbers, scalar types and enums.
//! proto2 `required` fields are plain (always encoded), `optional` ones are
//! `Option`s (encoded only when `Some`), `repeated` ones `Vec`s. Decoding
//! does not check that required fields were present; callers validate what
//! they use (e.g. a zero-length bucket).

pub mod aae;
pub mod bucket;
pub mod counter;
pub mod dt;
pub mod index;
pub mod kv;
pub mod mapred;
pub mod misc;
pub mod repl;
pub mod search;

pub use aae::*;
pub use bucket::*;
pub use counter::*;
pub use dt::*;
pub use index::*;
pub use kv::*;
pub use mapred::*;
pub use misc::*;
pub use repl::*;
pub use search::*;

use crate::codes::MsgCode;

/// A message that travels in a frame of its own, under a fixed code.
pub trait CodedMessage: prost::Message + Default {
    /// The frame code of this message type.
    const CODE: MsgCode;
}

macro_rules! coded {
    ($($ty:ident => $code:ident,)*) => {
        $(impl CodedMessage for $ty {
            const CODE: MsgCode = MsgCode::$code;
        })*
    };
}

coded! {
    RpbErrorResp => ErrorResp,
    RpbPingReq => PingReq,
    RpbPingResp => PingResp,
    RpbGetClientIdReq => GetClientIdReq,
    RpbGetClientIdResp => GetClientIdResp,
    RpbSetClientIdReq => SetClientIdReq,
    RpbSetClientIdResp => SetClientIdResp,
    RpbGetServerInfoReq => GetServerInfoReq,
    RpbGetServerInfoResp => GetServerInfoResp,
    RpbGetReq => GetReq,
    RpbGetResp => GetResp,
    RpbPutReq => PutReq,
    RpbPutResp => PutResp,
    RpbDelReq => DelReq,
    RpbDelResp => DelResp,
    RpbListBucketsReq => ListBucketsReq,
    RpbListBucketsResp => ListBucketsResp,
    RpbListKeysReq => ListKeysReq,
    RpbListKeysResp => ListKeysResp,
    RpbGetBucketReq => GetBucketReq,
    RpbGetBucketResp => GetBucketResp,
    RpbSetBucketReq => SetBucketReq,
    RpbSetBucketResp => SetBucketResp,
    RpbMapRedReq => MapRedReq,
    RpbMapRedResp => MapRedResp,
    RpbIndexReq => IndexReq,
    RpbIndexResp => IndexResp,
    RpbSearchQueryReq => SearchQueryReq,
    RpbSearchQueryResp => SearchQueryResp,
    RpbResetBucketReq => ResetBucketReq,
    RpbResetBucketResp => ResetBucketResp,
    RpbGetBucketTypeReq => GetBucketTypeReq,
    RpbSetBucketTypeReq => SetBucketTypeReq,
    RpbGetBucketKeyPreflistReq => GetBucketKeyPreflistReq,
    RpbGetBucketKeyPreflistResp => GetBucketKeyPreflistResp,
    RpbCSBucketReq => CsBucketReq,
    RpbCSBucketResp => CsBucketResp,
    RpbIndexBodyResp => IndexBodyResp,
    RpbCounterUpdateReq => CounterUpdateReq,
    RpbCounterUpdateResp => CounterUpdateResp,
    RpbCounterGetReq => CounterGetReq,
    RpbCounterGetResp => CounterGetResp,
    RpbYokozunaIndexGetReq => YokozunaIndexGetReq,
    RpbYokozunaIndexGetResp => YokozunaIndexGetResp,
    RpbYokozunaIndexPutReq => YokozunaIndexPutReq,
    RpbYokozunaIndexDeleteReq => YokozunaIndexDeleteReq,
    RpbYokozunaSchemaGetReq => YokozunaSchemaGetReq,
    RpbYokozunaSchemaGetResp => YokozunaSchemaGetResp,
    RpbYokozunaSchemaPutReq => YokozunaSchemaPutReq,
    RpbCoverageReq => CoverageReq,
    RpbCoverageResp => CoverageResp,
    DtFetchReq => DtFetchReq,
    DtFetchResp => DtFetchResp,
    DtUpdateReq => DtUpdateReq,
    DtUpdateResp => DtUpdateResp,
    RpbRTEReq => RteReq,
    RpbFetchReq => FetchReq,
    RpbFetchResp => FetchResp,
    RpbPushReq => PushReq,
    RpbPushResp => PushResp,
    RpbMembershipReq => MembershipReq,
    RpbMembershipResp => MembershipResp,
    RpbAaeFoldMergeRootNValReq => AaeFoldMergeRootNValReq,
    RpbAaeFoldMergeBranchNValReq => AaeFoldMergeBranchNValReq,
    RpbAaeFoldFetchClocksNValReq => AaeFoldFetchClocksNValReq,
    RpbAaeFoldMergeTreesRangeReq => AaeFoldMergeTreesRangeReq,
    RpbAaeFoldFetchClocksRangeReq => AaeFoldFetchClocksRangeReq,
    RpbAaeFoldFindKeysReq => AaeFoldFindKeysReq,
    RpbAaeFoldObjectStatsReq => AaeFoldObjectStatsReq,
    RpbAaeFoldReplKeysReq => AaeFoldReplKeysReq,
    RpbAaeFoldFindTombsReq => AaeFoldFindTombsReq,
    RpbAaeFoldRepairKeysReq => AaeFoldRepairKeysReq,
    RpbAaeFoldTreeResp => AaeFoldTreeResp,
    RpbAaeFoldKeyValueResp => AaeFoldKeyValueResp,
    RpbAaeFoldKeyCountResp => AaeFoldKeyCountResp,
    RpbAaeFoldListBucketsReq => AaeFoldListBucketsReq,
    RpbAaeFoldListBucketsResp => AaeFoldListBucketsResp,
    RpbAaeFoldReapTombsReq => AaeFoldReapTombsReq,
    RpbAaeFoldEraseKeysReq => AaeFoldEraseKeysReq,
    RpbAuthReq => AuthReq,
    RpbAuthResp => AuthResp,
    RpbStartTls => StartTls,
}
