//! POST: `rest.BeforeCreate` and the store's `Create` (kubernetes/apiserver
//! `pkg/registry/rest/create.go`, `pkg/registry/generic/registry/store.go`).

use super::{meta, validate, ApiRequest, ApiState};
use kubesim_model::{ApiError, ObjectKey, ResourceType, WatchEventType};
use serde_json::Value;
use std::sync::Arc;

/// How many generated names are tried before giving up with AlreadyExists (the apiserver's
/// `RetryGenerateName` retries up to 7 more times).
const GENERATE_NAME_ATTEMPTS_MAX: usize = 8;

/// `the namespace of the provided object does not match the namespace sent on the request`.
pub(crate) fn namespace_mismatch() -> ApiError {
    ApiError::bad_request(
        "the namespace of the provided object does not match the namespace sent on the request",
    )
}

impl ApiState {
    /// Creates the object in the request body.
    ///
    /// Order of checks as in the apiserver: body shape (400), namespace (400), validation of
    /// name and metadata (422), `resourceVersion` set (500), name taken (409).
    /// Differences: the name is validated after `generateName` is expanded (the apiserver also
    /// validates the prefix on its own); namespaces need not exist (no admission); for types
    /// with a status subresource `.status` is dropped (custom resources do this; built-in
    /// types reset it to their own defaults).
    pub(crate) fn create(&mut self, req: &ApiRequest, now: &str) -> Result<Arc<Value>, ApiError> {
        let t = &req.resource;
        let body = req
            .body
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("the request body is required for create"))?;
        let mut obj = meta::checked_object(body, t)?;
        if let Some(manager) = req.field_manager.as_deref().filter(|m| !m.is_empty()) {
            super::managed_fields::record_create(t, &mut obj, manager, now);
        }
        if req.status {
            return Err(ApiError::new(
                kubesim_model::StatusReason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ));
        }
        self.create_object(t, req.namespace.as_deref(), obj, now)
    }

    /// The NamespaceLifecycle admission plugin's check of a create in `namespace`
    /// (`plugin/pkg/admission/namespace/lifecycle`): 404 when the namespace does not exist,
    /// 403 while it is terminating. The immortal namespaces always exist.
    fn namespace_admits(
        &self,
        t: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        const IMMORTAL: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];
        if IMMORTAL.contains(&namespace) {
            return Ok(());
        }
        let key = ObjectKey::new("namespaces", "", namespace);
        match self.store.get(&key) {
            None => Err(ApiError::not_found("namespaces", "", namespace)),
            Some(ns) if ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") => {
                Err(ApiError::forbidden(
                    &t.plural,
                    &t.group,
                    name,
                    &format!(
                        "unable to create new content in namespace {namespace} because it is being terminated"
                    ),
                ))
            }
            Some(_) => Ok(()),
        }
    }

    /// The create path shared by POST and server-side apply of a new object. `obj` has passed
    /// [`meta::checked_object`].
    pub(crate) fn create_object(
        &mut self,
        t: &ResourceType,
        request_namespace: Option<&str>,
        mut obj: Value,
        now: &str,
    ) -> Result<Arc<Value>, ApiError> {
        // EnsureObjectNamespaceMatchesRequestNamespace.
        let namespace = if t.namespaced {
            let body_ns = meta::namespace(&obj).to_string();
            match request_namespace {
                Some(ns) if body_ns.is_empty() || body_ns == ns => ns.to_string(),
                Some(_) => return Err(namespace_mismatch()),
                // No namespace on the path: take the body's (the HTTP front always has one).
                None => body_ns,
            }
        } else {
            String::new()
        };
        meta::set_field(
            &mut obj,
            "namespace",
            (!namespace.is_empty()).then(|| Value::String(namespace.clone())),
        );

        // PrepareForCreate and FillObjectMetaSystemFields.
        if t.status_subresource {
            if let Some(map) = obj.as_object_mut() {
                map.remove("status");
            }
        }
        for server_field in ["deletionTimestamp", "deletionGracePeriodSeconds", "uid"] {
            meta::set_field(&mut obj, server_field, None);
        }
        meta::set_str(&mut obj, "creationTimestamp", now.to_string());
        meta::set_field(&mut obj, "generation", t.generation.then(|| Value::from(1)));
        super::strategy::prepare_for_create(t, &mut obj);

        let generate_prefix = meta::str_of(&obj, "generateName").to_string();
        let given_name = meta::name(&obj).to_string();
        let mut name = given_name.clone();
        if name.is_empty() && !generate_prefix.is_empty() {
            name = self.uids.generate_name(&generate_prefix);
        }

        // Validation: generateName, name, namespace, labels, owner references, the type's rules.
        let mut errs = Vec::new();
        if !generate_prefix.is_empty() {
            let masked = generate_prefix
                .strip_suffix('-')
                .unwrap_or(&generate_prefix);
            if !masked.is_empty() {
                errs.extend(validate::dns1123_subdomain(masked).iter().map(|m| {
                    validate::field_invalid("metadata.generateName", &generate_prefix, m)
                }));
            }
        }
        errs.extend(validate::name_errors(t, &name));
        if t.namespaced {
            if namespace.is_empty() {
                errs.push(validate::field_required("metadata.namespace", ""));
            } else {
                errs.extend(
                    validate::dns1123_label(&namespace)
                        .iter()
                        .map(|m| validate::field_invalid("metadata.namespace", &namespace, m)),
                );
            }
        }
        errs.extend(validate::label_errors(
            meta::meta(&obj).and_then(|m| m.get("labels")),
        ));
        errs.extend(meta::owner_ref_errors(&obj));
        errs.extend(super::strategy::validate(t, &obj));
        if !errs.is_empty() {
            return Err(validate::invalid(t, &name, &errs));
        }

        // Validating admission (after the strategy's validation, before storage).
        if t.namespaced && self.config.namespace_lifecycle {
            self.namespace_admits(t, &namespace, &name)?;
        }

        if !meta::str_of(&obj, "resourceVersion").is_empty() {
            // storage.ErrResourceVersionSetOnCreate: a plain error, which the handler answers
            // as a 500 with an empty reason.
            return Err(ApiError::new(
                kubesim_model::StatusReason::Unknown,
                "resourceVersion should not be set on objects to be created",
            ));
        }

        let mut key = ObjectKey::new(t.short_name(), namespace.as_str(), name.as_str());
        if given_name.is_empty() {
            let mut attempts = 1;
            while self.store.get(&key).is_some() && attempts < GENERATE_NAME_ATTEMPTS_MAX {
                key.name = self.uids.generate_name(&generate_prefix);
                attempts += 1;
            }
        }
        if let Some(existing) = self.store.get(&key) {
            let mut e = ApiError::already_exists(&t.plural, &t.group, &key.name);
            if meta::deletion_timestamp(existing).is_some() {
                e.message = format!("object is being deleted: {}", e.message);
            }
            return Err(e);
        }
        meta::set_str(&mut obj, "name", key.name.clone());
        let uid = self.uids.uid();
        meta::set_str(&mut obj, "uid", uid);

        let rev_before = self.store.revision();
        let stored = self.store.commit(WatchEventType::Added, &key, obj);
        self.outcome = super::Outcome::Created;
        assert_eq!(
            self.store.revision(),
            rev_before + 1,
            "invariant: a create commits one revision"
        );
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::*;
    use serde_json::json;

    #[test]
    fn create_sets_uid_creation_timestamp_generation_and_resource_version() {
        let (_, _, o) = with_widget_w();
        assert_eq!(o["metadata"]["resourceVersion"], "2");
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(o["metadata"]["creationTimestamp"], NOW);
        assert_eq!(o["metadata"]["uid"].as_str().map(str::len), Some(36));
        assert_eq!(o["metadata"]["namespace"], "default");
        assert_eq!(o["apiVersion"], "example.com/v1");
        assert_eq!(o["kind"], "Widget");
    }

    #[test]
    fn with_namespace_lifecycle_a_create_needs_a_live_namespace_as_the_admission_plugin_says() {
        let mut s = ApiState::new(StoreConfig {
            compaction_window: 0,
            namespace_lifecycle: true,
            ..StoreConfig::default()
        });
        let in_ns = |s: &mut ApiState, ns: &str, name: &str| {
            let req = ApiRequest::new(Verb::Create, cm(), Some(ns), None)
                .with_body(json!({"metadata": {"name": name}}));
            s.apply(&req, NOW).map(|_| ())
        };
        let e = in_ns(&mut s, "team", "a").expect_err("no such namespace");
        assert_eq!(
            (
                e.code(),
                e.message.as_str(),
                e.kind.as_deref(),
                e.name.as_deref()
            ),
            (
                404,
                "namespaces \"team\" not found",
                Some("namespaces"),
                Some("team")
            )
        );
        in_ns(&mut s, "default", "a").expect("default always exists");
        let ns = ResourceType::namespace();
        let req = ApiRequest::new(Verb::Create, ns.clone(), None, None)
            .with_body(json!({"metadata": {"name": "team"}}));
        s.apply(&req, NOW).expect("namespace");
        in_ns(&mut s, "team", "a").expect("live namespace");
        let del = ApiRequest::new(Verb::Delete, ns, None, Some("team"));
        s.apply(&del, NOW).expect("delete marks it Terminating");
        let e = in_ns(&mut s, "team", "b").expect_err("terminating");
        assert_eq!(
            (e.code(), e.reason.as_str(), e.message.as_str()),
            (
                403,
                "Forbidden",
                "configmaps \"b\" is forbidden: unable to create new content in namespace team because it is being terminated"
            )
        );
        // Off (the default), namespaces need not exist.
        let mut off = state();
        in_ns(&mut off, "nowhere", "a").expect("no admission");
    }

    #[test]
    fn create_of_an_existing_name_is_a_409_already_exists() {
        let mut s = state();
        create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect("first");
        let e = create(&mut s, &cm(), json!({"metadata": {"name": "a"}})).expect_err("second");
        assert_eq!(
            (e.code(), e.message.as_str()),
            (409, "configmaps \"a\" already exists")
        );
        assert_eq!(s.revision(), 2);
    }

    #[test]
    fn create_with_a_resource_version_is_a_500() {
        let mut s = state();
        let e = create(
            &mut s,
            &cm(),
            json!({"metadata": {"name": "a", "resourceVersion": "5"}}),
        )
        .expect_err("rv");
        assert_error(
            &e,
            500,
            "resourceVersion should not be set on objects to be created",
        );
    }

    #[test]
    fn create_with_another_namespace_in_the_body_is_a_400() {
        let mut s = state();
        let e = create(
            &mut s,
            &cm(),
            json!({"metadata": {"name": "a", "namespace": "x"}}),
        )
        .expect_err("mismatch");
        assert_error(
            &e,
            400,
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }

    #[test]
    fn create_without_a_name_is_a_422() {
        let mut s = state();
        let e = create(&mut s, &cm(), json!({"data": {}})).expect_err("no name");
        assert_error(&e, 422, "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");
    }

    #[test]
    fn create_with_an_invalid_name_is_a_422() {
        let mut s = state();
        let e =
            create(&mut s, &cm(), json!({"metadata": {"name": "Not_Valid"}})).expect_err("invalid");
        assert_eq!(e.code(), 422);
        assert!(e.message.contains("a lowercase RFC 1123 subdomain"));
    }

    #[test]
    fn generate_name_appends_a_suffix() {
        let mut s = state();
        let o =
            create(&mut s, &cm(), json!({"metadata": {"generateName": "job-"}})).expect("created");
        let name = o["metadata"]["name"].as_str().expect("name");
        assert!(name.starts_with("job-") && name.len() == 9, "{name}");
    }

    #[test]
    fn create_drops_status_when_the_type_has_a_status_subresource() {
        let (_, _, o) = with_widget(json!({"metadata": {"name": "w"}, "status": {"ok": true}}));
        assert!(o.get("status").is_none());
    }

    #[test]
    fn create_of_a_cluster_scoped_object_has_no_namespace() {
        let mut s = state();
        let t = ResourceType::namespace();
        let req = ApiRequest::new(Verb::Create, t, None, None)
            .with_body(json!({"metadata": {"name": "team-a"}}));
        let o = s.apply(&req, NOW).expect("created");
        assert!(o["metadata"].get("namespace").is_none());
        let req = ApiRequest::new(Verb::Create, ResourceType::namespace(), None, None)
            .with_body(json!({"metadata": {"name": "a.b"}}));
        assert_eq!(s.apply(&req, NOW).expect_err("label").code(), 422);
    }
}
