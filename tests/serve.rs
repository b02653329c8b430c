//! `kubesim replay --until ID --serve ADDR`, checked with kubectl itself: the stopped run's
//! cluster, as the history says it was at that event, on a real port.
//!
//! Needs kubectl on the PATH (`.ci/run` checks for it).

use kubesim_model::{EventKind, HistoryEvent, WatchEventType};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

const SCENARIO: &str = "intermediate-state";
const SEED: &str = "0";
const UNTIL: u64 = 200;

/// A served run; the server is killed when this is dropped.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Served {
    /// Starts `kubesim replay SCENARIO --seed SEED --until UNTIL --serve 127.0.0.1:0` and waits
    /// for it to say it is serving.
    fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kubesim-serve-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let kubeconfig = dir.join("kubeconfig");
        let until = UNTIL.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubesim"))
            .args(["replay", SCENARIO, "--seed", SEED, "--until", &until])
            .args(["--serve", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kubesim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut served = Served {
            child,
            kubeconfig,
            dir,
        };
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("serving the API server on http://") => break,
                Some(Ok(line)) => seen.push(line),
                _ => {
                    let status = served.child.wait().expect("wait");
                    panic!(
                        "kubesim exited ({status}) before serving:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        assert!(
            seen.iter()
                .any(|l| l.starts_with(&format!("stopped at event {UNTIL} "))),
            "kubesim says where it stopped:\n{}",
            seen.join("\n")
        );
        // Keep draining stdout so the server never blocks on a full pipe.
        #[allow(clippy::disallowed_methods)] // det-ok: a real process's pipe, no simulation here.
        std::thread::spawn(move || lines.for_each(drop));
        served
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("kubectl must be installed for this test (it is on the CI machine): {e}")
            });
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn kubectl_text(&self, args: &[&str]) -> String {
        String::from_utf8(self.kubectl(args).stdout).expect("kubectl prints UTF-8")
    }
}

/// The run's history up to and including event `UNTIL`, from the library (not the server).
fn history() -> Vec<HistoryEvent> {
    let scenario = kubesim::scenario::find(SCENARIO).expect("built-in scenario");
    let seed = kubesim::seed::parse(SEED).expect("seed");
    let report = kubesim::run::run(&scenario, seed, true);
    report.events.into_iter().take(UNTIL as usize + 1).collect()
}

/// Each stored key's last commit revision at the end of `events` (deleted keys removed).
fn live_keys(events: &[HistoryEvent]) -> BTreeMap<String, u64> {
    let mut keys = BTreeMap::new();
    for e in events {
        if let EventKind::Commit { rev, op, key } = &e.kind {
            if *op == WatchEventType::Deleted {
                keys.remove(key);
            } else {
                keys.insert(key.clone(), *rev);
            }
        }
    }
    keys
}

#[test]
fn kubectl_get_pods_shows_the_pods_the_history_had_created_by_the_stop_event() {
    let served = Served::start("pods");
    let want: Vec<String> = live_keys(&history())
        .into_keys()
        .filter_map(|k| k.strip_prefix("pods/").map(|k| k.replace('/', " ")))
        .collect();
    assert!(!want.is_empty(), "the stop event comes after some pods");
    let table = served.kubectl_text(&["get", "pods", "-A"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "server-side printing as kube-apiserver's pod printer"
    );
    let got: Vec<String> = lines
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn kubectl_get_o_yaml_shows_each_object_at_its_last_commit_before_the_stop() {
    let served = Served::start("yaml");
    let keys = live_keys(&history());
    let yaml = served.kubectl_text(&["get", "replicagroups", "-A", "-o", "yaml"]);
    let list: serde_json::Value = serde_yaml_ng::from_str(&yaml).expect("kubectl prints YAML");
    let items = list["items"].as_array().expect("a list");
    let want: BTreeMap<String, u64> = keys
        .into_iter()
        .filter(|(k, _)| k.starts_with("replicagroups.kubesim.io/"))
        .collect();
    let got: BTreeMap<String, u64> = items
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            let key = format!(
                "replicagroups.kubesim.io/{}/{}",
                m["namespace"].as_str().expect("namespace"),
                m["name"].as_str().expect("name")
            );
            let rv = m["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("resourceVersion");
            (key, rv)
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn kubectl_describe_and_a_watch_from_the_stored_history_work_against_the_stopped_run() {
    let served = Served::start("describe");
    let events = history();
    let pod = live_keys(&events)
        .into_keys()
        .find_map(|k| k.strip_prefix("pods/default/").map(str::to_string))
        .expect("a pod in default");
    let described = served.kubectl_text(&["describe", "pod", &pod, "-n", "default"]);
    assert!(
        described.contains("Name:") && described.contains(&pod),
        "{described}"
    );
    assert!(
        described.contains("Controlled By:  ReplicaGroup/"),
        "{described}"
    );

    // A watch from revision 1 replays every pod commit the history recorded up to the stop.
    let want: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Commit { op, key, .. } => key
                .strip_prefix("pods/default/")
                .map(|name| (format!("{op:?}").to_uppercase(), name.to_string())),
            _ => None,
        })
        .collect();
    let stream = served.kubectl_text(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=1",
    ]);
    let got: Vec<(String, String)> = stream
        .lines()
        .map(|l| {
            let ev: serde_json::Value = serde_json::from_str(l).expect("one JSON event per line");
            (
                ev["type"].as_str().expect("type").to_string(),
                ev["object"]["metadata"]["name"]
                    .as_str()
                    .expect("name")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);

    // `kubectl get --watch` lists, then watches until its request timeout ends it.
    let watched = served.kubectl_text(&["get", "pods", "--watch", "--request-timeout=2s"]);
    assert!(watched.contains(&pod), "{watched}");
}

#[test]
fn serving_past_the_end_of_the_run_or_on_a_bad_address_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["replay", SCENARIO, "--seed", SEED, "--until", "99999999"])
        .args(["--serve", "127.0.0.1:0"])
        .output()
        .expect("kubesim runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no event 99999999"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args([
            "replay",
            SCENARIO,
            "--seed",
            SEED,
            "--serve",
            "not-an-address",
        ])
        .output()
        .expect("kubesim runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--serve"));
}
