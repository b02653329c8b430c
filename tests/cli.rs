//! The command line: exit codes, clear errors on bad input, and the documented output.

use std::process::{Command, Output};

fn kubesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(args)
        .output()
        .expect("the kubesim binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally, not by a signal")
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    for (args, needle) in [
        (vec!["run", "no-such-scenario"], "unknown scenario"),
        (vec!["run", "api-smoke", "--seed", "12x"], "invalid seed"),
        (
            vec!["run", "api-smoke", "--faults", "lots"],
            "invalid fault profile",
        ),
        (vec!["explore", "--seeds", "9..3"], "invalid seed range"),
        (vec!["explore", "--shard", "4/4"], "invalid shard"),
        (vec!["replay", "api-smoke"], "--seed"),
        (
            vec!["shrink", "hot-loop", "--seed", "0", "--oracle", "no-such"],
            "unknown oracle; oracles: quiescence,",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let o = kubesim(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn list_names_every_scenario_with_its_expectation() {
    let o = kubesim(&["list"]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("api-smoke") && l.contains("holds")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("replicagroup")), "{out}");
}

#[test]
fn run_prints_the_history_hash_and_verdict_and_the_same_seed_gives_the_same_hash() {
    let a = kubesim(&["run", "api-smoke", "--seed", "7", "--check-determinism"]);
    assert_eq!(code(&a), 0, "{}", String::from_utf8_lossy(&a.stderr));
    let out = String::from_utf8_lossy(&a.stdout);
    assert!(out.contains("determinism: two runs, identical histories"));
    let summary = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.starts_with("scenario api-smoke seed 7:"))
            .map(str::to_string)
            .expect("a summary line")
    };
    let b = kubesim(&["run", "api-smoke", "--seed", "0x7"]);
    assert_eq!(
        summary(&a),
        summary(&b),
        "decimal and hex name the same seed"
    );
    assert!(out.lines().any(|l| l == "held"));
}

#[test]
fn explore_sweeps_a_scenario_and_prints_a_table_row_per_scenario() {
    let o = kubesim(&["explore", "api-smoke", "--count", "3", "--jobs", "1"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("api-smoke"))
        .expect("a row");
    assert!(row.ends_with("ok") && row.contains(" 3 "), "{row}");
}

#[test]
fn shards_split_a_sweep_without_overlap() {
    let o = kubesim(&[
        "explore",
        "api-smoke",
        "--seeds",
        "0..4",
        "--shard",
        "1/2",
        "--jobs",
        "1",
    ]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8_lossy(&o.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("api-smoke"))
        .expect("a row");
    assert!(row.contains(" 2 "), "shard 1/2 of 4 seeds runs 2: {row}");
}

#[test]
fn replay_html_writes_one_self_contained_page_with_the_violation_event_and_an_unwritable_path_is_exit_2(
) {
    let dir = std::env::temp_dir().join(format!("kubesim-cli-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("run.html");
    let o = kubesim(&[
        "replay",
        "intermediate-state",
        "--seed",
        "0",
        "--html",
        page.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code(&o), 1, "the seed is caught");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let verdict = stdout
        .lines()
        .find_map(|l| l.strip_prefix("VIOLATION converges at "))
        .expect("the verdict names the violation");
    let event = verdict
        .split("(event #")
        .nth(1)
        .and_then(|l| l.split(')').next())
        .and_then(|id| id.parse::<u64>().ok())
        .expect("the verdict names the violation's event");
    // "90.000000s (event ...": simulated seconds with six decimals, so microseconds.
    let time_us: u64 = verdict
        .split('s')
        .next()
        .map(|t| t.replace('.', ""))
        .and_then(|t| t.parse().ok())
        .expect("the verdict names the violation's time");
    let html = std::fs::read_to_string(&page).expect("the page was written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing is fetched from the network"
    );
    assert!(html.contains("intermediate-state seed 0"));
    assert!(
        html.contains(&format!(
            "\"oracle\":\"converges\",\"time_us\":{time_us},\"event_id\":{event},"
        )),
        "the page marks the violation at its event"
    );

    let o = kubesim(&[
        "replay",
        "intermediate-state",
        "--seed",
        "0",
        "--html",
        "/nonexistent-dir/x.html",
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write the HTML picture"));
    let _ = std::fs::remove_dir_all(&dir);
}
