//! Client→server messages as one enum, decoded from frames by code.
//!
//! Search/Yokozuna requests are decoded too, so the server can refuse them
//! by name; what each request does is the PB service's business.

wire_enum! {
    /// A decoded client request.
    pub enum Request;
    empty {
        Ping: RpbPingReq = PingReq,
        GetClientId: RpbGetClientIdReq = GetClientIdReq,
        GetServerInfo: RpbGetServerInfoReq = GetServerInfoReq,
        StartTls: RpbStartTls = StartTls,
    }
    data {
        SetClientId(RpbSetClientIdReq) = SetClientIdReq,
        Get(RpbGetReq) = GetReq,
        Put(RpbPutReq) = PutReq,
        Del(RpbDelReq) = DelReq,
        ListBuckets(RpbListBucketsReq) = ListBucketsReq,
        ListKeys(RpbListKeysReq) = ListKeysReq,
        GetBucket(RpbGetBucketReq) = GetBucketReq,
        SetBucket(RpbSetBucketReq) = SetBucketReq,
        MapRed(RpbMapRedReq) = MapRedReq,
        Index(RpbIndexReq) = IndexReq,
        SearchQuery(RpbSearchQueryReq) = SearchQueryReq,
        ResetBucket(RpbResetBucketReq) = ResetBucketReq,
        GetBucketType(RpbGetBucketTypeReq) = GetBucketTypeReq,
        SetBucketType(RpbSetBucketTypeReq) = SetBucketTypeReq,
        GetBucketKeyPreflist(RpbGetBucketKeyPreflistReq) = GetBucketKeyPreflistReq,
        CsBucket(RpbCSBucketReq) = CsBucketReq,
        CounterUpdate(RpbCounterUpdateReq) = CounterUpdateReq,
        CounterGet(RpbCounterGetReq) = CounterGetReq,
        YokozunaIndexGet(RpbYokozunaIndexGetReq) = YokozunaIndexGetReq,
        YokozunaIndexPut(RpbYokozunaIndexPutReq) = YokozunaIndexPutReq,
        YokozunaIndexDelete(RpbYokozunaIndexDeleteReq) = YokozunaIndexDeleteReq,
        YokozunaSchemaGet(RpbYokozunaSchemaGetReq) = YokozunaSchemaGetReq,
        YokozunaSchemaPut(RpbYokozunaSchemaPutReq) = YokozunaSchemaPutReq,
        Coverage(RpbCoverageReq) = CoverageReq,
        DtFetch(DtFetchReq) = DtFetchReq,
        DtUpdate(DtUpdateReq) = DtUpdateReq,
        Auth(RpbAuthReq) = AuthReq,
    }
}

impl Request {
    /// Whether this is a Riak Search / Yokozuna request (not served by Rill).
    pub fn is_search(&self) -> bool {
        matches!(
            self,
            Request::SearchQuery(_)
                | Request::YokozunaIndexGet(_)
                | Request::YokozunaIndexPut(_)
                | Request::YokozunaIndexDelete(_)
                | Request::YokozunaSchemaGet(_)
                | Request::YokozunaSchemaPut(_)
        )
    }
}
