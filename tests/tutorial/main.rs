//! The README tutorial, compiled and run: `my_controller.rs` is shown in the README verbatim (a
//! test below keeps the two the same), and the failure report of `kubesim::check`.

mod my_controller;

#[test]
fn the_readme_shows_the_tutorial_file_verbatim() {
    let readme = include_str!("../../README.md");
    let tutorial = include_str!("my_controller.rs");
    assert!(
        readme.contains(tutorial),
        "README.md must show tests/tutorial/my_controller.rs verbatim in its tutorial: copy the \
         file into the README's code block"
    );
}

#[test]
fn a_scenario_swept_over_seeds_reports_a_replayable_failure() {
    // `kubesim::check` runs seeds and panics with the oracle, the history tail and the replay
    // commands; `KUBESIM_SEED=N` reruns one seed with its full history.
    let buggy = kubesim::scenario::find("split-brain").expect("built in");
    let failure = std::panic::catch_unwind(|| kubesim::check(buggy).seeds(0..5).run())
        .expect_err("split-brain is caught within 5 seeds");
    let report = failure
        .downcast_ref::<String>()
        .expect("a formatted report");
    assert!(
        report.contains("--test tutorial -- ") && report.contains("--include-ignored"),
        "the replay command runs only this test: {report}"
    );
}
