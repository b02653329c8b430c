//! The kubeconfig that points kubectl at a served run: one cluster, one context, no
//! credentials (the served API server does not authenticate), `default` namespace.

use std::net::SocketAddr;

/// The kubeconfig YAML for a server at `addr`, with the context named `context`.
pub fn render(addr: SocketAddr, context: &str) -> String {
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": format!("http://{addr}")}}],
        "users": [{"name": context, "user": {}}],
        "contexts": [{
            "name": context,
            "context": {"cluster": context, "user": context, "namespace": "default"},
        }],
        "current-context": context,
        "preferences": {},
    });
    serde_yaml_ng::to_string(&doc).expect("invariant: a JSON document is valid YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_points_its_current_context_at_the_server() {
        let text = render("127.0.0.1:8001".parse().expect("addr"), "kubesim-x");
        let doc: serde_json::Value = serde_yaml_ng::from_str(&text).expect("YAML");
        assert_eq!(doc["current-context"], "kubesim-x");
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:8001"
        );
        assert_eq!(doc["contexts"][0]["context"]["cluster"], "kubesim-x");
    }
}
