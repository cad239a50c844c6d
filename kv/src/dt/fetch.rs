//! The data type fetch: an ordinary quorum read whose replies are joined
//! by type (every replica's data type siblings), so that a client sees one
//! value and never siblings. Read repair is the get path's.

use super::{DtFetchResult, bucket_kind, datatype_of};
use crate::error::Result;
use crate::get::core::GetOutcome;
use crate::get::fsm as get_fsm;
use crate::request::{BucketKey, GetOptions};
use crate::service::Inner;
use std::sync::Arc;

pub(crate) async fn execute(
    inner: &Arc<Inner>,
    bk: BucketKey,
    mut opts: GetOptions,
) -> Result<DtFetchResult> {
    let props = inner.types.props(&bk.bucket_type, &bk.bucket)?;
    let kind = bucket_kind(&props, &bk.bucket_type)?;
    // Options that shape an object answer do not apply here.
    opts.head = false;
    opts.if_modified = None;
    opts.deleted_vclock = false;
    let plan = get_fsm::plan(inner, &bk, &props, &opts)?;
    let (outcome, found) = get_fsm::read_replies(inner, plan, &props, &opts, true).await?;
    let value = match outcome {
        GetOutcome::Found(merged) => datatype_of(std::iter::once(&merged).chain(&found))?,
        GetOutcome::NotFound(_) => None,
        GetOutcome::Error(e) => return Err(e),
    };
    Ok(DtFetchResult {
        kind,
        value: value.filter(|v| v.kind() == kind),
    })
}
