//! A picture of a history: one self-contained HTML page that draws a run.
//!
//! [`render`] turns a history and its violations into a page that works offline (no network,
//! no external script or font): a lane per host on a simulated-time axis, with requests and
//! their responses, watch streams and their events, commits, reconciles, workqueue steps, lease
//! changes, faults, crashes (the crashed host's lane is shaded until its restart) and the
//! violations, each marked by a red line; the first violation's event is selected when the page
//! opens. Filters by host, resource, key and kind of event narrow both the lanes and the event
//! list; clicking an event (on a lane or in the list) shows its details, with links to the other
//! end of its exchange (a request's response, a reconcile's end) and to the previous and next
//! event on the same key.
//!
//! The files:
//!
//! - `model.rs`: the history as the page's data ([`model::Model`]): interned hosts, resources
//!   and keys, one compact row per event, who is behind each request (the oracles' own
//!   attribution, [`crate::oracle::peers`]) and which rows pair up;
//! - `page.html`, `page.css`, `page.js`: the page, embedded here with `include_str!`.
//!
//! Data goes into a `<script type="application/json">` block with every `<` written as
//! `\u003c`, so no string of the history can close the block; the script reads it with
//! `JSON.parse` and writes every string of the history as text (`textContent`), never as HTML.
//! A history of 17,000 events (the `standard` scenario's 600 s) stays quick: lanes are drawn on a
//! canvas (only the events in view, one mark per pixel and kind) and the event list is virtual
//! (only the rows in view exist in the DOM).
//!
//! The page reports on `<body>` what a test can check without a screen: `data-errors` (script
//! errors caught by `window.onerror` and unhandled rejections, with the first message in
//! `data-error`), `data-lanes`, `data-events`, `data-shown` (events through the filters),
//! `data-violation-event` (the history id of the first violation's event),
//! `data-selected-event` and `data-render-ms` (the first render, `performance.now()`).
//! `tests/html_picture.rs` opens pages in headless Chromium and checks them.

pub mod model;

use crate::oracle::Violation;
use kubesim_model::HistoryEvent;
use model::Model;

const PAGE_HTML: &str = include_str!("page.html");
const PAGE_CSS: &str = include_str!("page.css");
const PAGE_JS: &str = include_str!("page.js");

/// Renders `events` and `violations` as one self-contained HTML page titled `title`.
///
/// Any history renders, including an empty one, one without violations and one whose strings
/// hold markup: the page shows them as text.
pub fn render(title: &str, events: &[HistoryEvent], violations: &[Violation]) -> String {
    let model = Model::new(title, events, violations);
    let data = script_json(&model);
    let title = escape_html(title);
    fill(PAGE_HTML, |name| match name {
        "TITLE" => Some(title.as_str()),
        "CSS" => Some(PAGE_CSS),
        "JS" => Some(PAGE_JS),
        "DATA" => Some(data.as_str()),
        _ => None,
    })
}

/// `value` as JSON that can sit inside a `<script>` element: every `<` is `\u003c` (the same
/// string to `JSON.parse`), so neither `</script>` nor `<!--` can appear.
pub fn script_json<T: serde::Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("invariant: the page model serializes");
    json.replace('<', "\\u003c")
}

/// `text` with the five HTML special characters escaped, for text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The template with each `{{NAME}}` replaced by `value(NAME)`, in one pass over the template
/// (a value is never scanned again, so data holding `{{JS}}` stays as it is). Unknown names are
/// left as written.
fn fill<'a>(template: &str, value: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after
            .find("}}")
            .and_then(|end| value(&after[..end]).map(|v| (end, v)))
        {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim_model::EventKind;

    fn ev(id: u64, time_us: u64, host: &str, kind: EventKind) -> HistoryEvent {
        HistoryEvent {
            id,
            time_us,
            host: host.into(),
            kind,
        }
    }

    fn violation(event_id: Option<u64>) -> Violation {
        Violation {
            oracle: "converges",
            time_us: 2_000_000,
            event_id,
            message: "not converged </script><b>x</b>".into(),
        }
    }

    fn request(conn: u64, target: &str) -> EventKind {
        EventKind::Request {
            conn,
            verb: "get".into(),
            target: target.into(),
            subresource: None,
            rv: None,
        }
    }

    fn response(conn: u64, target: &str) -> EventKind {
        EventKind::Response {
            conn,
            verb: "get".into(),
            target: target.into(),
            code: 200,
            rv: Some(3),
            reason: None,
        }
    }

    /// The JSON between the data block's tags, parsed back.
    fn data_of(page: &str) -> serde_json::Value {
        let open = "<script type=\"application/json\" id=\"history-data\">";
        let start = page.find(open).expect("the page has a data block") + open.len();
        let len = page[start..]
            .find("</script>")
            .expect("the data block ends");
        serde_json::from_str(&page[start..start + len]).expect("the data block is JSON")
    }

    #[test]
    fn markup_in_history_strings_cannot_close_the_data_block() {
        let evil = "</script><script>alert(1)</script><!--";
        let events = vec![
            ev(0, 0, evil, EventKind::Client { text: evil.into() }),
            ev(
                1,
                5,
                "workload",
                request(1, &format!("pods/default/{evil}")),
            ),
        ];
        let page = render(evil, &events, &[violation(Some(1))]);
        let data = data_of(&page);
        assert_eq!(data["hosts"][0], evil, "the host name round-trips");
        assert_eq!(data["events"][0][8], format!("client {evil}"));
        assert_eq!(data["title"], evil);
        // Only the page's own three script elements close.
        assert_eq!(page.matches("</script>").count(), 3);
        assert!(!page.contains("<!--"));
        assert!(page.contains("<title>&lt;/script&gt;&lt;script&gt;alert(1)"));
    }

    #[test]
    fn html_escaping_covers_the_five_special_characters() {
        assert_eq!(
            escape_html(r#"a&b<c>d"e'f"#),
            "a&amp;b&lt;c&gt;d&quot;e&#39;f"
        );
        assert_eq!(escape_html("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn script_json_parses_back_to_the_same_value() {
        let value = serde_json::json!({"k": "</script> <!-- \u{2028} {{JS}} \"q\""});
        let text = script_json(&value);
        assert!(!text.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn placeholders_inside_data_are_not_filled_again() {
        let out = fill("a {{X}} b {{Y}} c {{unknown}} {{", |name| match name {
            "X" => Some("{{Y}}"),
            "Y" => Some("y"),
            _ => None,
        });
        assert_eq!(out, "a {{Y}} b y c {{unknown}} {{");
    }

    #[test]
    fn the_assets_cannot_end_their_own_elements_early() {
        assert!(!PAGE_JS.contains("</script"));
        assert!(!PAGE_CSS.contains("</style"));
        assert!(
            !PAGE_JS.contains("innerHTML"),
            "history strings are written as text"
        );
        for name in ["{{TITLE}}", "{{CSS}}", "{{JS}}", "{{DATA}}"] {
            assert!(PAGE_HTML.contains(name), "{name} is in the template");
        }
    }

    #[test]
    fn the_violation_event_is_selected_by_its_row_not_its_id() {
        // A slice of a history (ids from 10): the row of event 12 is 2.
        let events: Vec<_> = (10..14)
            .map(|id| {
                ev(
                    id,
                    id * 1000,
                    "controller-0",
                    EventKind::Runtime { text: "x".into() },
                )
            })
            .collect();
        let missing = violation(Some(99));
        let unnamed = violation(None);
        let named = violation(Some(12));
        assert_eq!(
            model::violation_row(&events, std::slice::from_ref(&named)),
            Some(2)
        );
        assert_eq!(
            model::violation_row(&events, &[missing.clone(), unnamed.clone(), named.clone()]),
            Some(2),
            "the first violation whose event is in the history"
        );
        assert_eq!(
            model::violation_row(&events, &[missing.clone(), unnamed]),
            None
        );
        let m = Model::new("t", &events, &[missing, named]);
        assert_eq!(m.selected, 2);
        assert_eq!(m.violations[0].row, -1);
        assert_eq!(m.violations[1].row, 2);
        assert_eq!(m.violations[1].event_id, Some(12));
    }

    #[test]
    fn an_empty_history_renders_a_page_with_no_lanes() {
        let page = render("", &[], &[]);
        let data = data_of(&page);
        assert_eq!(data["lanes"], 0);
        assert_eq!(data["selected"], -1);
        assert_eq!(data["events"], serde_json::json!([]));
        let with_violation = data_of(&render("", &[], &[violation(Some(0))]));
        assert_eq!(with_violation["violations"][0]["row"], -1);
        assert_eq!(with_violation["end_us"], 2_000_000);
    }

    /// Events out of time order, repeated and huge ids, empty and odd names, unpaired ends.
    fn odd_history() -> Vec<HistoryEvent> {
        vec![
            ev(
                u64::MAX,
                u64::MAX,
                "",
                EventKind::Crash { target: "".into() },
            ),
            ev(7, 5, "apiserver-0", response(9, "")),
            ev(7, 3, "apiserver-0", request(9, "/")),
            ev(
                0,
                0,
                "é\u{0}\"\n",
                EventKind::ReconcileEnd {
                    key: "\u{2028}".into(),
                    attempt: 0,
                    outcome: "error </b>".into(),
                    duration_us: u64::MAX,
                },
            ),
            ev(
                1,
                1,
                "sim",
                EventKind::Heal {
                    text: "never faulted".into(),
                },
            ),
            ev(
                2,
                2,
                "sim",
                EventKind::Restart {
                    target: "never crashed".into(),
                },
            ),
            ev(
                3,
                2,
                "apiserver-0",
                EventKind::WatchClose {
                    watcher: 4,
                    reason: "".into(),
                },
            ),
            ev(
                4,
                2,
                "controller-0",
                EventKind::Informer {
                    resource: ".".into(),
                    text: "".into(),
                },
            ),
        ]
    }

    #[test]
    fn odd_histories_render_without_panicking() {
        let events = odd_history();
        for n in 0..=events.len() {
            let page = render(
                "odd",
                &events[..n],
                &[violation(Some(7)), violation(Some(u64::MAX))],
            );
            let data = data_of(&page);
            assert_eq!(data["events"].as_array().map(Vec::len), Some(n));
        }
        let m = Model::new("odd", &events, &[violation(Some(7))]);
        assert_eq!(m.selected, 1, "the first row with the id");
        assert_eq!(m.end_us, u64::MAX);
    }

    #[test]
    fn lanes_are_the_hosts_with_events_in_a_stable_order() {
        let events = vec![
            ev(
                0,
                0,
                "controller-10",
                EventKind::Runtime { text: "a".into() },
            ),
            ev(1, 0, "workload", EventKind::Client { text: "b".into() }),
            ev(
                2,
                0,
                "apiserver-0",
                EventKind::ConnOpen {
                    conn: 1,
                    peer: "controller-2".into(),
                },
            ),
            ev(
                3,
                0,
                "controller-2",
                EventKind::Runtime { text: "c".into() },
            ),
            ev(
                4,
                0,
                "sim",
                EventKind::Crash {
                    target: "node-x".into(),
                },
            ),
        ];
        let m = Model::new("t", &events, &[]);
        assert_eq!(m.lanes, 5);
        assert_eq!(
            m.hosts,
            [
                "sim",
                "apiserver-0",
                "controller-2",
                "controller-10",
                "workload",
                "node-x"
            ]
        );
        // The crash's target is a peer, not a lane.
        assert_eq!(m.events[4].3, 5);
    }

    #[test]
    fn a_request_pairs_with_its_response_and_names_its_client() {
        let target = "replicagroups.kubesim.io/default/g1";
        let events = vec![
            ev(
                0,
                0,
                "apiserver-0",
                EventKind::ConnOpen {
                    conn: 1,
                    peer: "controller-0".into(),
                },
            ),
            ev(1, 10, "apiserver-0", request(1, target)),
            ev(2, 20, "apiserver-0", response(1, target)),
            ev(
                3,
                30,
                "controller-0",
                EventKind::ReconcileBegin {
                    key: "default/g1".into(),
                    attempt: 1,
                },
            ),
            ev(
                4,
                40,
                "controller-0",
                EventKind::Informer {
                    resource: "replicagroups".into(),
                    text: "list".into(),
                },
            ),
        ];
        let m = Model::new("t", &events, &[]);
        let client = m
            .hosts
            .iter()
            .position(|h| h == "controller-0")
            .expect("a host") as i64;
        let (req, resp) = (&m.events[1], &m.events[2]);
        assert_eq!((req.4, resp.4), (2, 1), "partners");
        assert_eq!((req.3, resp.3), (client, client), "the client is the peer");
        assert_eq!(
            m.resources,
            ["replicagroups.kubesim.io"],
            "the informer's plural is merged"
        );
        assert_eq!(m.events[4].5, 0);
        assert_eq!(
            m.keys,
            ["default/g1"],
            "the request and the reconcile share the key"
        );
        assert_eq!((req.6, m.events[3].6), (0, 0));
        assert_eq!(
            req.9,
            serde_json::json!({"conn": 1, "verb": "get", "target": target})
        );
        assert_eq!(m.types[usize::try_from(req.7).expect("index")], "request");
    }
}
