//! What the core answers a request that reached it: an object (shared with storage), or a list
//! whose items are shared ([`ListBody`]). Both are serialised straight into the response body,
//! so a list is not copied into a JSON value first.

use crate::api::ListBody;
use serde_json::Value;
use std::sync::Arc;

/// A successful answer of the core (see the module documentation).
#[derive(Debug)]
pub(crate) enum Answer {
    Object(Arc<Value>),
    List(ListBody),
}

impl Answer {
    /// `metadata.resourceVersion`, as the history's response line records it.
    pub(crate) fn resource_version(&self) -> Option<u64> {
        match self {
            Answer::Object(v) => super::object_resource_version(v),
            Answer::List(l) => l.resource_version(),
        }
    }

    /// The answer as a JSON value (copies a list's items; for the rare paths that rewrite it).
    pub(crate) fn to_value(&self) -> Arc<Value> {
        match self {
            Answer::Object(v) => Arc::clone(v),
            Answer::List(l) => Arc::new(l.to_value()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiRequest, ApiState, Verb};
    use kubesim_model::ResourceType;
    use serde_json::json;

    #[test]
    fn a_list_answer_serialises_to_the_bytes_of_its_json_value() {
        let mut st = ApiState::new(Default::default());
        let cm = ResourceType::config_map();
        for (name, data) in [
            ("a", json!({"k": "v\"q"})),
            ("b", json!({})),
            ("c", json!(null)),
        ] {
            let req = ApiRequest::new(Verb::Create, cm.clone(), Some("default"), None)
                .with_body(json!({"metadata": {"name": name, "labels": {"x": "1"}}, "data": data}));
            st.apply(&req, "2026-01-01T00:00:00Z").expect("created");
        }
        let mut req = ApiRequest::new(Verb::List, cm, Some("default"), None);
        for limit in [None, Some(2)] {
            req.list.limit = limit;
            let list = st.list(&req).expect("listed");
            let answer = Answer::List(list.clone());
            assert_eq!(
                serde_json::to_vec(&list).expect("serialises"),
                serde_json::to_vec(&*st.apply(&req, "2026-01-01T00:00:00Z").expect("listed"))
                    .expect("serialises"),
                "limit {limit:?}: the shared list writes the bytes apply's value does"
            );
            assert_eq!(answer.resource_version(), Some(st.revision()));
            assert_eq!(*answer.to_value(), list.to_value());
        }
    }
}
