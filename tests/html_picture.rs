//! The history picture (`kubesim::picture`) in a real browser: headless Chromium from Debian's
//! packages (`apt-get install chromium`) opens the page and dumps its DOM, and the tests read
//! what the page wrote on `<body>`: script errors, lanes, the violation's event and the
//! selected one, the number of events.
//!
//! `KUBESIM_KEEP_PICTURE=1` keeps the pages (their paths are printed) for a look by hand.

use kubesim::picture;
use kubesim::run::run;
use kubesim::scenario;
use kubesim_model::{EventKind, HistoryEvent};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// A page written to a fresh temporary directory, removed afterwards unless kept.
struct Page {
    dir: PathBuf,
    path: PathBuf,
}

impl Page {
    fn write(name: &str, html: &str) -> Page {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kubesim-picture-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        let path = dir.join(format!("{name}.html"));
        std::fs::write(&path, html).expect("write the page");
        Page { dir, path }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if std::env::var_os("KUBESIM_KEEP_PICTURE").is_some() {
            eprintln!("kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Opens `page` in headless Chromium and returns the DOM after its scripts ran.
fn dump_dom(page: &Page) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the picture tests need a real browser; install it with \
         `apt-get install chromium` (Debian's package)"
    );
    // The DOM goes to a file: a pipe nobody reads while waiting would fill and stall chromium.
    let dom_path = page.dir.join("dom.html");
    let dom_file = std::fs::File::create(&dom_path).expect("create the DOM file");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1280,800",
            "--virtual-time-budget=10000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            page.dir.join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.path.display()))
        .stdout(Stdio::from(dom_file))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    // A bound on a hung browser: 120 s in 50 ms steps (no wall clock in the tests).
    let mut status = None;
    for _ in 0..2400 {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "chromium did not finish within 120 s on {}",
            page.path.display()
        );
    }
    let status = status.expect("checked above");
    assert!(status.success(), "chromium failed: {status}");
    let dom = std::fs::read(&dom_path).expect("read the dumped DOM");
    String::from_utf8_lossy(&dom).into_owned()
}

/// The value of attribute `name` on the dumped `<body>`.
fn body_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + len]))
}

/// The `data-host` of every lane label, in order.
fn lane_labels(dom: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in dom.split("class=\"lane-label\"").skip(1) {
        let tag_end = chunk.find('>').unwrap_or(chunk.len());
        let tag = &chunk[..tag_end];
        if let Some(at) = tag.find("data-host=\"") {
            let rest = &tag[at + "data-host=\"".len()..];
            out.push(unescape(&rest[..rest.find('"').unwrap_or(rest.len())]));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Hosts with events, as the page has lanes for them.
fn hosts(events: &[HistoryEvent]) -> BTreeSet<String> {
    events.iter().map(|e| e.host.clone()).collect()
}

/// Asserts the page ran without a script error and finished its first render.
fn assert_loaded(dom: &str) {
    assert_eq!(
        body_attr(dom, "data-errors").as_deref(),
        Some("0"),
        "script errors in the page: {:?}",
        body_attr(dom, "data-error")
    );
    assert_eq!(body_attr(dom, "data-ready").as_deref(), Some("1"));
}

#[test]
fn a_failing_pitfall_seed_shows_its_lanes_and_selects_the_violation_event() {
    let scenario = scenario::find("intermediate-state").expect("a catalogue pitfall");
    let report = run(&scenario, 0, true);
    let violation = report
        .violations
        .first()
        .expect("intermediate-state fails at seed 0 (README, Debugging a failing seed)");
    let event_id = violation.event_id.expect("the violation names its event");

    let html = picture::render(
        "intermediate-state seed 0",
        &report.events,
        &report.violations,
    );
    let page = Page::write("intermediate-state-0", &html);
    let dom = dump_dom(&page);
    assert_loaded(&dom);

    let hosts = hosts(&report.events);
    assert_eq!(body_attr(&dom, "data-lanes"), Some(hosts.len().to_string()));
    let labels = lane_labels(&dom);
    assert_eq!(labels.iter().cloned().collect::<BTreeSet<_>>(), hosts);
    assert_eq!(labels.len(), hosts.len(), "one lane per host");
    assert_eq!(
        body_attr(&dom, "data-violation-event"),
        Some(event_id.to_string())
    );
    assert_eq!(
        body_attr(&dom, "data-selected-event"),
        Some(event_id.to_string()),
        "the violation's event is selected"
    );
    let events = report.events.len().to_string();
    assert_eq!(body_attr(&dom, "data-events").as_ref(), Some(&events));
    assert_eq!(body_attr(&dom, "data-shown").as_ref(), Some(&events));
    // The details pane shows the selected event's text line.
    let selected = report
        .events
        .iter()
        .find(|e| e.id == event_id)
        .expect("the violation's event is in the history");
    let text = selected.kind.to_string();
    assert!(
        dom.contains(&format!("{:06}", event_id)),
        "the event is listed"
    );
    assert!(
        dom.contains(
            &text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        ),
        "details of the selected event ({text}) are shown"
    );
}

/// Drives the page as a person would, after its first render, and writes what it saw on
/// `<body>` as `data-t-*`: filtering on `KEY`, hiding the last lane, clicking the first row,
/// the down arrow, a wheel zoom on the lanes and scrolling the list to its end.
const DRIVE: &str = r##"
<script>
(function () {
  const b = document.body, $ = (id) => document.getElementById(id);
  const put = (k, v) => b.setAttribute("data-t-" + k, String(v));
  const rows = () => Array.from(document.querySelectorAll("#list-rows .row"));
  const steps = [
    () => { const k = $("key"); k.value = "KEY"; k.dispatchEvent(new Event("input")); },
    () => {
      put("key-shown", b.getAttribute("data-shown"));
      put("key-rows", rows().length);
      put("key-rows-match", rows().every((r) => r.textContent.indexOf("KEY") >= 0));
      const k = $("key"); k.value = ""; k.dispatchEvent(new Event("input"));
    },
    () => {
      put("cleared-shown", b.getAttribute("data-shown"));
      const res = $("resource");
      res.value = Array.from(res.options).find((o) => o.text === "pods").value;
      res.dispatchEvent(new Event("change"));
    },
    () => {
      put("pods-shown", b.getAttribute("data-shown"));
      put("pods-rows-match", rows().length > 0 && rows().every((r) => r.textContent.indexOf("pods") >= 0));
      const res = $("resource");
      res.value = "-2";
      res.dispatchEvent(new Event("change"));
      const inv = $("involving");
      inv.value = Array.from(inv.options).find((o) => o.text === "workload").value;
      inv.dispatchEvent(new Event("change"));
    },
    () => {
      put("workload-shown", b.getAttribute("data-shown"));
      const inv = $("involving");
      inv.value = "-1";
      inv.dispatchEvent(new Event("change"));
      const boxes = document.querySelectorAll("#hosts input[type=checkbox]");
      const last = boxes[boxes.length - 1];
      last.checked = false;
      last.dispatchEvent(new Event("change"));
      put("lanes-hidden", b.getAttribute("data-lanes"));
      put("labels-hidden", document.querySelectorAll(".lane-label").length);
      last.checked = true;
      last.dispatchEvent(new Event("change"));
    },
    () => {
      const top = $("list").getBoundingClientRect().top;
      const first = rows().find((r) => r.getBoundingClientRect().top >= top);
      const text = first.textContent;
      first.click();
      put("clicked-row", text.slice(1, text.indexOf(" ")));
      put("clicked", b.getAttribute("data-selected-event"));
      put("details", $("details").querySelector(".line").textContent === text);
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
      put("after-down", b.getAttribute("data-selected-event"));
      $("canvas").dispatchEvent(new WheelEvent("wheel", { deltaY: -300, clientX: 400, clientY: 100, bubbles: true, cancelable: true }));
      $("fit").click();
      const list = $("list");
      list.scrollTop = list.scrollHeight;
      list.dispatchEvent(new Event("scroll"));
    },
    () => {
      const r = rows();
      put("bottom-row", r[r.length - 1].textContent.slice(1, r[r.length - 1].textContent.indexOf(" ")));
      // Hover along the second lane's first slot until an event's tip shows, then click it.
      const c = $("canvas"), box = c.getBoundingClientRect(), y = box.top + 24 + 44 + 7;
      const at = (type, x) => new MouseEvent(type, { clientX: x, clientY: y, bubbles: true });
      for (let x = box.left + 1; x < box.right; x += 1) {
        c.dispatchEvent(at("mousemove", x));
        if (!$("tip").hidden) {
          put("tip", $("tip").textContent.split("\n")[0].slice(1).split(" ")[0]);
          c.dispatchEvent(at("mousedown", x));
          c.dispatchEvent(at("mouseup", x));
          put("canvas-clicked", b.getAttribute("data-selected-event"));
          break;
        }
      }
      put("done", 1);
    },
  ];
  let n = 0;
  (function next() { if (n < steps.length) { steps[n++](); setTimeout(next, 400); } })();
})();
</script>
</body>"##;

#[test]
fn filters_clicks_keys_and_scrolling_work_in_the_browser() {
    let scenario = scenario::find("intermediate-state").expect("a catalogue pitfall");
    let report = run(&scenario, 0, true);
    let key = "default/g1";
    let html = picture::render("drive", &report.events, &report.violations)
        .replace("</body>", &DRIVE.replace("KEY", key));
    let dom = dump_dom(&Page::write("drive", &html));
    assert_loaded(&dom);
    let attr = |name: &str| body_attr(&dom, &format!("data-t-{name}")).unwrap_or_default();
    assert_eq!(attr("done"), "1", "the script ran to its end");

    let with_key = report
        .events
        .iter()
        .filter(|e| e.kind.to_string().contains(key))
        .count();
    let shown: usize = attr("key-shown").parse().expect("a count");
    assert!(
        shown > 0 && shown <= with_key,
        "{shown} of {with_key} events with {key}"
    );
    assert_eq!(
        attr("key-rows-match"),
        "true",
        "every listed row has the key"
    );
    assert_eq!(attr("cleared-shown"), report.events.len().to_string());

    let pods: usize = attr("pods-shown").parse().expect("a count");
    assert!(
        pods > 0 && pods < report.events.len(),
        "{pods} events on pods"
    );
    assert_eq!(
        attr("pods-rows-match"),
        "true",
        "every listed row is about pods"
    );
    // The workload's own lines and its requests on the API servers.
    let own = report
        .events
        .iter()
        .filter(|e| e.host == "workload")
        .count();
    let involving: usize = attr("workload-shown").parse().expect("a count");
    assert!(
        own < involving && involving < report.events.len(),
        "{involving} events involve the workload, {own} on its lane"
    );

    let lanes = hosts(&report.events).len();
    assert_eq!(attr("lanes-hidden"), (lanes - 1).to_string());
    assert_eq!(attr("labels-hidden"), (lanes - 1).to_string());

    let clicked: u64 = attr("clicked-row").parse().expect("a row's event id");
    assert_eq!(
        attr("clicked"),
        clicked.to_string(),
        "a click selects the row's event"
    );
    assert_eq!(attr("details"), "true", "the details pane shows it");
    let next = report
        .events
        .iter()
        .skip_while(|e| e.id != clicked)
        .nth(1)
        .expect("the clicked row is not the last");
    assert_eq!(
        attr("after-down"),
        next.id.to_string(),
        "the down arrow selects the next"
    );
    let tip: u64 = attr("tip")
        .parse()
        .expect("a tip over an event on the lanes");
    assert_eq!(
        attr("canvas-clicked"),
        tip.to_string(),
        "a click on a lane selects the event"
    );
    assert!(
        report
            .events
            .iter()
            .any(|e| e.id == tip && e.host == "apiserver-0"),
        "the second lane is apiserver-0's"
    );
    let last = report.events.last().expect("events").id;
    assert_eq!(attr("bottom-row").parse::<u64>().ok(), Some(last));
}

#[test]
fn markup_in_a_history_is_shown_as_text_not_run() {
    let evil = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";
    let events = vec![
        HistoryEvent {
            id: 0,
            time_us: 0,
            host: evil.into(),
            kind: EventKind::Client { text: evil.into() },
        },
        HistoryEvent {
            id: 1,
            time_us: 1_000,
            host: "workload".into(),
            kind: EventKind::Client {
                text: format!("</script>{evil}"),
            },
        },
    ];
    let violation = kubesim::oracle::Violation {
        oracle: "converges",
        time_us: 1_000,
        event_id: Some(1),
        message: evil.into(),
    };
    let html = picture::render(evil, &events, &[violation]);
    let dom = dump_dom(&Page::write("markup", &html));
    assert_loaded(&dom);
    assert_eq!(
        body_attr(&dom, "data-pwned"),
        None,
        "no markup from the history ran"
    );
    assert_eq!(body_attr(&dom, "data-lanes").as_deref(), Some("2"));
    assert_eq!(body_attr(&dom, "data-selected-event").as_deref(), Some("1"));
    assert!(
        !dom.contains("<img"),
        "no element was made from the history's strings"
    );
}

#[test]
fn a_history_out_of_order_with_odd_ids_and_names_opens_without_errors() {
    let ev = |id: u64, time_us: u64, host: &str, kind: EventKind| HistoryEvent {
        id,
        time_us,
        host: host.into(),
        kind,
    };
    let events = vec![
        ev(
            u64::MAX,
            9_000_000,
            "",
            EventKind::Crash { target: "".into() },
        ),
        ev(7, 5, "apiserver-0", EventKind::ConnClose { conn: 1 }),
        ev(7, 3, "apiserver-0", EventKind::Compact { rev: 0 }),
        ev(
            0,
            0,
            "é\u{0}\"\n",
            EventKind::Runtime {
                text: "\u{2028}\u{feff}".into(),
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
                target: "apiserver-0".into(),
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
    ];
    let violation = kubesim::oracle::Violation {
        oracle: "odd",
        time_us: 4,
        event_id: Some(7),
        message: String::new(),
    };
    let html = picture::render("odd", &events, &[violation]);
    let dom = dump_dom(&Page::write("odd", &html));
    assert_loaded(&dom);
    assert_eq!(
        body_attr(&dom, "data-lanes"),
        Some(hosts(&events).len().to_string())
    );
    assert_eq!(body_attr(&dom, "data-selected-event").as_deref(), Some("7"));
}

#[test]
fn an_empty_history_opens_without_errors() {
    let dom = dump_dom(&Page::write("empty", &picture::render("empty", &[], &[])));
    assert_loaded(&dom);
    assert_eq!(body_attr(&dom, "data-lanes").as_deref(), Some("0"));
    assert_eq!(body_attr(&dom, "data-events").as_deref(), Some("0"));
    assert_eq!(body_attr(&dom, "data-selected-event").as_deref(), Some(""));
}

#[test]
fn the_standard_scenario_history_of_seventeen_thousand_events_loads() {
    let scenario = scenario::find("standard").expect("the standard scenario");
    let report = run(&scenario, 0, true);
    assert!(
        report.events.len() > 10_000,
        "a large history: {} events",
        report.events.len()
    );
    let html = picture::render("standard seed 0", &report.events, &report.violations);
    let page = Page::write("standard-0", &html);
    let dom = dump_dom(&page);
    assert_loaded(&dom);
    let events = report.events.len().to_string();
    assert_eq!(body_attr(&dom, "data-events").as_ref(), Some(&events));
    assert_eq!(body_attr(&dom, "data-shown").as_ref(), Some(&events));
    assert_eq!(
        body_attr(&dom, "data-lanes"),
        Some(hosts(&report.events).len().to_string())
    );
    // The list is virtual: a few dozen rows exist, not one per event.
    let rows = dom.matches("class=\"row").count();
    assert!(rows > 0 && rows < 200, "{rows} rows in the DOM");
    // Recorded for the README, not asserted (no timing assertions in tests).
    eprintln!(
        "standard seed 0: {} events, page {} bytes, first render at {} ms (script {} ms)",
        report.events.len(),
        html.len(),
        body_attr(&dom, "data-render-ms").unwrap_or_default(),
        body_attr(&dom, "data-script-ms").unwrap_or_default()
    );
}
