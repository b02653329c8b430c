//! Histories of chosen seeds pinned as insta snapshots: any change in ordering or semantics shows
//! up in review. After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo
//! test --test history_snapshots` and read the diff).

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
