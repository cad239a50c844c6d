//! Server→client messages as one enum, encoded to frames with the right code.
//!
//! Note the empty-body conventions: an empty `Get` reply means not-found,
//! and ping/delete/set-bucket/reset-bucket/set-client-id replies are the
//! code byte alone. Choosing the reply is the PB service's business.

use crate::messages::RpbErrorResp;

wire_enum! {
    /// A server reply (one frame; streamed replies are several of these).
    pub enum Response;
    empty {
        Ping: RpbPingResp = PingResp,
        SetClientId: RpbSetClientIdResp = SetClientIdResp,
        Del: RpbDelResp = DelResp,
        SetBucket: RpbSetBucketResp = SetBucketResp,
        ResetBucket: RpbResetBucketResp = ResetBucketResp,
        Auth: RpbAuthResp = AuthResp,
        StartTls: RpbStartTls = StartTls,
    }
    data {
        Error(RpbErrorResp) = ErrorResp,
        GetClientId(RpbGetClientIdResp) = GetClientIdResp,
        GetServerInfo(RpbGetServerInfoResp) = GetServerInfoResp,
        Get(RpbGetResp) = GetResp,
        Put(RpbPutResp) = PutResp,
        ListBuckets(RpbListBucketsResp) = ListBucketsResp,
        ListKeys(RpbListKeysResp) = ListKeysResp,
        GetBucket(RpbGetBucketResp) = GetBucketResp,
        MapRed(RpbMapRedResp) = MapRedResp,
        Index(RpbIndexResp) = IndexResp,
        SearchQuery(RpbSearchQueryResp) = SearchQueryResp,
        GetBucketKeyPreflist(RpbGetBucketKeyPreflistResp) = GetBucketKeyPreflistResp,
        CsBucket(RpbCSBucketResp) = CsBucketResp,
        IndexBody(RpbIndexBodyResp) = IndexBodyResp,
        CounterUpdate(RpbCounterUpdateResp) = CounterUpdateResp,
        CounterGet(RpbCounterGetResp) = CounterGetResp,
        YokozunaIndexGet(RpbYokozunaIndexGetResp) = YokozunaIndexGetResp,
        YokozunaSchemaGet(RpbYokozunaSchemaGetResp) = YokozunaSchemaGetResp,
        Coverage(RpbCoverageResp) = CoverageResp,
        DtFetch(DtFetchResp) = DtFetchResp,
        DtUpdate(DtUpdateResp) = DtUpdateResp,
    }
}

impl Response {
    /// An error reply with `errcode` 0.
    pub fn error(errmsg: impl Into<Vec<u8>>) -> Response {
        Response::Error(RpbErrorResp::new(errmsg))
    }
}
