//! Histories of chosen seeds pinned as insta snapshots: any change in ordering or semantics shows
//! up in review. After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo
//! test --test history_snapshots` and read the diff).

mod common;

use kubesim::{history, run, scenario};

fn history_of(name: &str, seed: u64) -> String {
    let sc = scenario::find(name).expect("built-in scenario");
    let report = run::run(&sc, seed, true);
    assert!(report.held(), "{name} seed {seed}: {:?}", report.violations);
    format!(
        "hash {:016x}\n{}",
        report.hash,
        history::to_text(&report.events)
    )
}

#[test]
fn api_smoke_seed_7_history_is_pinned() {
    insta::assert_snapshot!(history_of("api-smoke", 7));
}

#[test]
fn replicagroup_seed_3_history_is_pinned() {
    insta::assert_snapshot!(history_of("replicagroup", 3));
}

/// A small world where an informer's watch must relist: its replica crashes, a write lands on the
/// other replica, storage is compacted past the informer's resourceVersion, and the re-watch after
/// the restart is answered 410 Expired. The pinned history shows the whole recovery: the dropped
/// stream, the 410, the relist and the watch resumed from the list's resourceVersion.
#[test]
fn an_informer_relist_after_410_history_is_pinned() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, PostParams};
    use kubesim::faults::FaultAction;
    use kubesim::observe::HostObserver;
    use kubesim::transport::Target;
    use kubesim_controller::{CancelReason, Context, Informer, InformerConfig};
    use rand::SeedableRng;
    use std::time::Duration;

    let cm = |name: &str| {
        let mut c = ConfigMap::default();
        c.metadata.name = Some(name.into());
        c
    };
    let mut w = common::world(41, &[0, 0]);
    w.schedule(
        Duration::from_secs(1),
        FaultAction::Crash("apiserver-0".into()),
    );
    w.schedule(Duration::from_secs(2), FaultAction::Compact);
    w.schedule(
        Duration::from_secs(3),
        FaultAction::Restart("apiserver-0".into()),
    );
    common::client(&mut w, "writer", Target::Replica(1), move |c| async move {
        let api: Api<ConfigMap> = Api::namespaced(c, "default");
        api.create(&PostParams::default(), &cm("a")).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        api.create(&PostParams::default(), &cm("b")).await?;
        Ok(())
    });
    let recorder = w.recorder().clone();
    common::client(
        &mut w,
        "informer",
        Target::Replica(0),
        move |c| async move {
            let observer = HostObserver::shared(recorder, "informer");
            let informer = Informer::new(
                Api::<ConfigMap>::namespaced(c, "default"),
                InformerConfig::default(),
                Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(1)),
                observer,
            );
            let store = informer.store();
            let ctx = Context::background();
            let run = tokio::spawn(informer.run(ctx.clone(), |_| {}));
            tokio::time::sleep(Duration::from_secs(8)).await;
            ctx.cancel(CancelReason::Shutdown);
            run.await?;
            assert_eq!(store.list().len(), 2, "the relist brought both objects");
            Ok(())
        },
    );
    common::run(&mut w);
    let events = w.recorder().events();
    let text = history::to_text(&events);
    assert!(
        text.contains("relist after 410 Expired"),
        "the informer relisted:\n{text}"
    );
    insta::assert_snapshot!(format!("hash {:016x}\n{text}", w.recorder().hash()));
}
