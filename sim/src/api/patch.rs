//! PATCH (placeholder, filled in below).

use super::{ApiRequest, ApiState};
use kubesim_model::ApiError;
use serde_json::Value;

impl ApiState {
    /// PATCH of an object.
    pub(crate) fn patch(&mut self, _req: &ApiRequest, _now: &str) -> Result<Value, ApiError> {
        Err(ApiError::internal("patch is not implemented yet"))
    }
}
