//! `kubesim replay SCENARIO --seed N --until ID --serve ADDR`: the cluster at event ID, served
//! for kubectl on a real port with a kubeconfig for it ([`kubesim::serve`]).

use super::single::{load_plan, ReplayArgs};
use super::{scenario, EXIT_USAGE};
use kubesim::history;
use kubesim::serve::{self, kubeconfig};
use std::io::Write;
use std::net::SocketAddr;

/// Stops the run, prints where it stopped and how to reach it, then serves until interrupted.
/// Returns only on an error (exit 2).
pub fn serve(a: &ReplayArgs, addr: SocketAddr) -> u8 {
    match try_serve(a, addr) {
        Ok(()) => super::EXIT_OK,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

fn try_serve(a: &ReplayArgs, addr: SocketAddr) -> Result<(), String> {
    let sc = scenario(&a.scenario)?;
    let plan = load_plan(&a.plan, sc.name, a.seed)?;
    let stopped =
        serve::stop_at(&sc, a.seed, a.faults, plan.as_ref(), a.until).map_err(|e| e.to_string())?;
    // Bind before printing anything that says where to connect.
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let context = format!("kubesim-{}-{}", sc.name, a.seed);
    let path = a
        .kubeconfig
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("{context}.kubeconfig")));
    std::fs::write(&path, kubeconfig::render(bound, &context))
        .map_err(|e| format!("cannot write the kubeconfig to {}: {e}", path.display()))?;

    let shown = if a.trace {
        &stopped.events[..]
    } else {
        &stopped.events[stopped.events.len().saturating_sub(20)..]
    };
    let mut out = String::new();
    if shown.len() < stopped.events.len() {
        out.push_str(&format!(
            "... {} earlier events (use --trace for all)\n",
            stopped.events.len() - shown.len()
        ));
    }
    out.push_str(&history::to_text(shown));
    if let Some(e) = &stopped.run_error {
        out.push_str(&format!("the run failed before the stop: {e}\n"));
    }
    match (stopped.event(), a.until, stopped.ended_early) {
        (Some(ev), Some(_), false) => out.push_str(&format!(
            "stopped at event {} ({:.3}s simulated), storage at revision {}\n",
            ev.id,
            ev.time_us as f64 / 1e6,
            stopped.revision
        )),
        _ => out.push_str(&format!(
            "the run ended; storage at revision {}\n",
            stopped.revision
        )),
    }
    out.push_str(&format!(
        "serving the API server on http://{bound} (Ctrl-C stops)\n\
         kubeconfig: {}\n  \
         export KUBECONFIG={}\n  \
         kubectl get pods -A\n",
        path.display(),
        shell_path(&path)
    ));
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    serve::server::serve(stopped.cluster, stopped.time, listener)
        .map_err(|e| format!("serving stopped: {e}"))
}

/// `path` as a shell word (quoted when it has anything but plain path characters).
fn shell_path(path: &std::path::Path) -> String {
    let s = path.display().to_string();
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@".contains(c));
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
