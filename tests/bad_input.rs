//! The API server never crashes on what a client sends: malformed requests get the Kubernetes
//! status code and a clear message, and random bytes and random requests leave it answering.

mod common;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use kubesim::apiserver::API_PORT;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// method, path, content type, body, expected code, expected reason.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, u16, &'a str);

async fn connect() -> Result<Sender, Box<dyn std::error::Error>> {
    let stream = turmoil::net::TcpStream::connect(("apiserver-0", API_PORT)).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn send(
    s: &mut Sender,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .header("host", "apiserver-0")
        .body(Full::new(Bytes::from(body)))?;
    let resp = s.send_request(req).await?;
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((code, v))
}

#[test]
fn malformed_requests_get_kubernetes_status_errors() {
    let mut w = common::world(11, &[0]);
    w.client("client", async {
        let cms = "/api/v1/namespaces/default/configmaps";
        let (limit, watch, named) = (
            format!("{cms}?limit=many"),
            format!("{cms}?watch=perhaps"),
            format!("{cms}/x"),
        );
        let cases: Vec<Case> = vec![
            (
                "POST",
                cms,
                "application/json",
                b"{not json".to_vec(),
                400,
                "BadRequest",
            ),
            (
                "POST",
                cms,
                "application/json",
                b"[1,2]".to_vec(),
                400,
                "BadRequest",
            ),
            (
                "GET",
                "/api/v1/namespaces/default/widgets",
                "",
                vec![],
                404,
                "NotFound",
            ),
            (
                "GET",
                "/apis/nope.example.com/v1/things",
                "",
                vec![],
                404,
                "NotFound",
            ),
            ("GET", &limit, "", vec![], 400, "BadRequest"),
            ("GET", &watch, "", vec![], 400, "BadRequest"),
            (
                "POST",
                cms,
                "application/json",
                br#"{"metadata":{"name":"Not_Valid"}}"#.to_vec(),
                422,
                "Invalid",
            ),
            (
                "POST",
                cms,
                "application/json",
                vec![b' '; 4 * 1024 * 1024],
                413,
                "RequestEntityTooLarge",
            ),
            (
                "PATCH",
                &named,
                "text/plain",
                b"{}".to_vec(),
                415,
                "UnsupportedMediaType",
            ),
            (
                "PUT",
                cms,
                "application/json",
                b"{}".to_vec(),
                405,
                "MethodNotAllowed",
            ),
        ];
        for (method, path, ct, body, code, reason) in cases {
            // A fresh connection each: the server closes one whose body it refused (413).
            let mut s = connect().await?;
            let (got, status) = send(&mut s, method, path, ct, body).await?;
            assert_eq!(got, code, "{method} {path}: {status}");
            assert_eq!(status["kind"], "Status", "{method} {path}");
            assert_eq!(status["reason"], reason, "{method} {path}: {status}");
            assert!(
                status["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{method} {path}"
            );
        }
        Ok(())
    });
    common::run(&mut w);
}

#[test]
fn random_bytes_and_random_requests_never_stop_the_server_from_answering() {
    let mut w = common::world(12, &[0]);
    w.client("fuzzer", async {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        // Raw garbage on fresh connections.
        for _ in 0..30 {
            let mut stream = turmoil::net::TcpStream::connect(("apiserver-0", API_PORT)).await?;
            let len = rng.random_range(1..2048);
            let junk: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            stream.write_all(&junk).await?;
            let mut buf = [0u8; 256];
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut buf))
                .await;
        }
        // Well-formed HTTP with random paths, methods, queries and bodies.
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
        let segments = [
            "api",
            "apis",
            "v1",
            "namespaces",
            "default",
            "configmaps",
            "pods",
            "leases",
            "coordination.k8s.io",
            "status",
            "x",
            "",
            "..",
            "%00",
            "namespaces",
        ];
        let queries = [
            "",
            "?watch=1&timeoutSeconds=1",
            "?limit=2",
            "?continue=zzz",
            "?labelSelector=a%20in%20(",
            "?fieldSelector=spec.x%3D1",
            "?resourceVersion=abc",
            "?resourceVersion=0",
            "?propagationPolicy=Orphan",
        ];
        let bodies: [&[u8]; 6] = [
            b"",
            b"{}",
            b"null",
            br#"{"metadata":{"name":5}}"#,
            br#"{"metadata":{"name":"a","resourceVersion":"1"}}"#,
            br#"[{"op":"test","path":"/x","value":1}]"#,
        ];
        let types = [
            "application/json",
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ];
        let mut s = connect().await?;
        let mut answered = 0;
        for _ in 0..400 {
            let n = rng.random_range(1..7);
            let path: Vec<&str> = (0..n)
                .map(|_| segments[rng.random_range(0..segments.len())])
                .collect();
            let path = format!(
                "/{}{}",
                path.join("/"),
                queries[rng.random_range(0..queries.len())]
            );
            let method = methods[rng.random_range(0..methods.len())];
            let body = bodies[rng.random_range(0..bodies.len())].to_vec();
            let ct = types[rng.random_range(0..types.len())];
            let Ok(req_path) = path.parse::<http::Uri>() else {
                continue;
            };
            match send(&mut s, method, &req_path.to_string(), ct, body).await {
                Ok((code, _)) => {
                    assert!((200..600).contains(&code));
                    answered += 1;
                }
                // A watch may be cut by its timeout; reconnect and go on.
                Err(_) => s = connect().await?,
            }
        }
        assert!(
            answered > 300,
            "only {answered} of 400 random requests were answered"
        );
        // Still serving.
        let (code, _) = send(
            &mut s,
            "GET",
            "/api/v1/namespaces/default/configmaps",
            "",
            vec![],
        )
        .await?;
        assert_eq!(code, 200);
        Ok(())
    });
    common::run(&mut w);
}

/// Runs the `kubesim` binary with a plan file holding `plan`; returns exit code and stderr.
fn run_with_plan_file(name: &str, plan: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("kubesim-bad-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, plan).expect("plan file written");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", "replicagroup", "--seed", "1", "--plan"])
        .arg(&path)
        .output()
        .expect("the kubesim binary runs");
    let _ = std::fs::remove_file(&path);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_fault_plans_exit_2_naming_the_field_at_fault() {
    let cases = [
        (
            "unknown host",
            r#"{"timed": [{"at": "3s", "fault": "crash", "host": "controller-9"}]}"#,
            "timed[0].host",
            "unknown host \"controller-9\"",
        ),
        (
            "unknown fault",
            r#"{"timed": [{"at": "3s", "fault": "explode", "host": "controller-0"}]}"#,
            "timed[0]",
            "explode",
        ),
        (
            "bad time",
            r#"{"timed": [{"at": "soon", "fault": "crash", "host": "controller-0"}]}"#,
            "timed[0]",
            "duration",
        ),
        (
            "malformed selector: a verb that does not exist",
            r#"{"targeted": [{"fault": "fail", "match": {"verb": "updte"}, "nth": 1, "status": 409}]}"#,
            "targeted[0].match.verb",
            "updte",
        ),
        (
            "malformed selector: an unknown key",
            r#"{"targeted": [{"fault": "fail", "match": {"pod": "x"}, "nth": 1, "status": 409}]}"#,
            "targeted[0].match.pod",
            "unknown field",
        ),
        (
            "selector on an unknown host",
            r#"{"targeted": [{"fault": "reset", "match": {"host": "nobody"}, "every": true}]}"#,
            "targeted[0].match.host",
            "unknown host",
        ),
        (
            "selector on an unknown resource",
            r#"{"targeted": [{"fault": "drop", "match": {"resource": "gadgets"}, "nth": 1}]}"#,
            "targeted[0].match.resource",
            "unknown resource",
        ),
        (
            "bad status",
            r#"{"targeted": [{"fault": "fail", "match": {"verb": "update"}, "nth": 1, "status": 418}]}"#,
            "targeted[0]",
            "status: 418",
        ),
        (
            "410 on a write",
            r#"{"targeted": [{"fault": "fail", "match": {"verb": "create"}, "nth": 1, "status": 410}]}"#,
            "targeted[0]",
            "watch or list",
        ),
        (
            "no nth",
            r#"{"targeted": [{"fault": "fail", "match": {}, "status": 500}]}"#,
            "targeted[0]",
            "nth",
        ),
        (
            "a rate above one",
            r#"{"api": {"error_rate": 2.0}}"#,
            "api.error_rate",
            "probability",
        ),
        (
            "an unknown top-level field",
            r#"{"faults": []}"#,
            "faults",
            "unknown field",
        ),
        ("not JSON", "timed: [", "", "bad fault plan"),
    ];
    for (what, plan, field, needle) in cases {
        let (code, stderr) = run_with_plan_file("plan.json", plan);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("at {field}")),
            "{what}: names {field}: {stderr}"
        );
        assert!(stderr.contains(needle), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
    let (code, stderr) = run_with_plan_file(
        "plan.yaml",
        "timed:\n  - at: 3s\n    fault: crash\n    hots: controller-0\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("timed[0]") && stderr.contains("hots"),
        "{stderr}"
    );
}

#[test]
fn a_missing_plan_file_exits_2() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["run", "replicagroup", "--plan", "/nonexistent/plan.json"])
        .output()
        .expect("the kubesim binary runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read plan file"));
}
