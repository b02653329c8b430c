//! The simulated API server, driven by real kube-rs clients over turmoil's network.

mod common;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchParams};
use kube::ResourceExt;
use kubesim::transport::Target;
use serde_json::json;
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.into());
    c.data = Some([("k".to_string(), "v".to_string())].into());
    c
}

fn api_code<T>(r: Result<T, kube::Error>) -> Option<(u16, String)> {
    match r {
        Err(kube::Error::Api(s)) => Some((s.code, s.reason)),
        _ => None,
    }
}

#[test]
fn an_update_with_a_stale_resource_version_gets_409_conflict() {
    let mut w = common::world(1, &[0]);
    common::client(&mut w, "client", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        let first = api.create(&PostParams::default(), &cm("a")).await?;
        let mut fresh = first.clone();
        fresh.data = Some([("k".to_string(), "new".to_string())].into());
        let updated = api.replace("a", &PostParams::default(), &fresh).await?;
        assert_ne!(updated.resource_version(), first.resource_version());
        // `first` still carries the old resourceVersion.
        let stale = api.replace("a", &PostParams::default(), &first).await;
        assert_eq!(api_code(stale), Some((409, "Conflict".into())));
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn create_of_an_existing_name_is_409_already_exists_and_get_of_a_missing_one_is_404() {
    let mut w = common::world(2, &[0]);
    common::client(&mut w, "client", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        api.create(&PostParams::default(), &cm("a")).await?;
        let again = api.create(&PostParams::default(), &cm("a")).await;
        assert_eq!(api_code(again), Some((409, "AlreadyExists".into())));
        assert_eq!(
            api_code(api.get("nope").await),
            Some((404, "NotFound".into()))
        );
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn a_finalizer_holds_a_delete_until_it_is_removed() {
    let mut w = common::world(3, &[0]);
    common::client(&mut w, "client", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        let mut held = cm("held");
        held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
        api.create(&PostParams::default(), &held).await?;
        api.delete("held", &DeleteParams::default()).await?;
        let still = api.get("held").await?;
        assert!(
            still.metadata.deletion_timestamp.is_some(),
            "delete sets deletionTimestamp"
        );
        let release = Patch::Merge(json!({ "metadata": { "finalizers": null } }));
        api.patch("held", &PatchParams::default(), &release).await?;
        assert_eq!(
            api_code(api.get("held").await),
            Some((404, "NotFound".into()))
        );
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn garbage_collection_removes_dependents_of_a_deleted_owner() {
    let mut w = common::world(4, &[0]);
    common::client(&mut w, "client", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        let owner = api.create(&PostParams::default(), &cm("owner")).await?;
        let mut dep = cm("dependent");
        dep.metadata.owner_references = Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: "owner".into(),
                uid: owner.uid().expect("created objects have a uid"),
                ..Default::default()
            },
        ]);
        api.create(&PostParams::default(), &dep).await?;
        api.delete("owner", &DeleteParams::default()).await?;
        // The collector runs every second of simulated time.
        for _ in 0..10 {
            if api.get_opt("dependent").await?.is_none() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err("the dependent outlived its owner by 5 s".into())
    });
    common::run(&mut w);
}

#[test]
fn a_client_on_a_lagging_replica_sees_older_data() {
    // apiserver-1's watch cache trails storage by 3 s.
    let mut w = common::world(5, &[0, 3000]);
    common::client(&mut w, "client", Target::Replica(1), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        api.create(&PostParams::default(), &cm("fresh")).await?;
        let cached = ListParams::default().match_any(); // resourceVersion=0: served from the cache
        let early = api.list(&cached).await?;
        assert!(
            early.items.is_empty(),
            "the lagging cache does not have the new object yet"
        );
        let consistent = api.list(&ListParams::default()).await?; // from storage
        assert_eq!(consistent.items.len(), 1);
        tokio::time::sleep(Duration::from_secs(4)).await;
        let later = api.list(&cached).await?;
        assert_eq!(
            later.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
            vec!["fresh"]
        );
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn a_watch_from_a_revision_older_than_the_watch_cache_window_gets_410_expired() {
    let mut w = common::world(6, &[0]);
    let cluster = w.cluster().clone();
    common::client(&mut w, "client", Target::Replica(0), move |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        // The replica's watch cache keeps the last 100 events; storage compacts too.
        for i in 0..120 {
            api.create(&PostParams::default(), &cm(&format!("c{i}")))
                .await?;
        }
        let rev = cluster.state().revision();
        cluster.compact("test", rev);
        let mut stream = api.watch(&WatchParams::default(), "2").await?.boxed();
        match stream.try_next().await? {
            Some(kube::api::WatchEvent::Error(e)) => {
                assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
                assert!(
                    e.message.starts_with("too old resource version: 2"),
                    "{}",
                    e.message
                );
            }
            other => return Err(format!("expected a 410 ERROR event, got {other:?}").into()),
        }
        assert!(
            stream.try_next().await?.is_none(),
            "the stream ends after the error"
        );
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn the_kube_runtime_watcher_relists_after_410_and_ends_with_storage_contents() {
    use kube_runtime::watcher::{self, Event};
    let mut w = common::world(7, &[0]);
    let cluster = w.cluster().clone();
    common::client(&mut w, "watcher", Target::Replica(0), move |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c.clone(), "watched");
        let writer: Api<ConfigMap> = Api::namespaced(c, "watched");
        let other: Api<ConfigMap> = Api::namespaced(writer.clone().into_client(), "noise");
        // Short watch timeouts make the watcher re-watch from its last resourceVersion.
        let cfg = watcher::Config::default().timeout(1);
        let mut events = watcher::watcher(api, cfg).boxed();
        let mut store = std::collections::BTreeSet::new();
        let mut inits = 0;
        let mut written = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline {
            let ev = tokio::time::timeout(Duration::from_secs(2), events.next()).await;
            match ev {
                Ok(Some(Ok(Event::Init))) => {
                    inits += 1;
                    store.clear();
                }
                Ok(Some(Ok(Event::InitApply(o)))) | Ok(Some(Ok(Event::Apply(o)))) => {
                    store.insert(o.name_any());
                }
                Ok(Some(Ok(Event::Delete(o)))) => {
                    store.remove(&o.name_any());
                }
                Ok(Some(Ok(Event::InitDone))) if !written => {
                    written = true;
                    writer.create(&PostParams::default(), &cm("w1")).await?;
                    // Push the watcher's resourceVersion out of history.
                    for i in 0..200 {
                        other
                            .create(&PostParams::default(), &cm(&format!("n{i}")))
                            .await?;
                    }
                    let rev = cluster.state().revision();
                    cluster.compact("test", rev);
                    writer.create(&PostParams::default(), &cm("w2")).await?;
                }
                Ok(Some(Err(_))) => tokio::time::sleep(Duration::from_millis(100)).await,
                _ => {}
            }
            if inits >= 2 && store.len() == 2 {
                break;
            }
        }
        assert!(
            inits >= 2,
            "the watcher relisted after 410 (inits = {inits})"
        );
        assert_eq!(store.into_iter().collect::<Vec<_>>(), vec!["w1", "w2"]);
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn delete_preconditions_that_do_not_match_are_409() {
    let mut w = common::world(8, &[0]);
    common::client(&mut w, "client", Target::Replica(0), |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        api.create(&PostParams::default(), &cm("a")).await?;
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: Some("not-the-uid".into()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        assert_eq!(
            api_code(api.delete("a", &dp).await),
            Some((409, "Conflict".into()))
        );
        assert!(api.get_opt("a").await?.is_some());
        Ok(())
    });
    common::run(&mut w);
}
