//! The informer's store: a deterministic cache of objects (a `BTreeMap` keyed by namespace and
//! name, so iteration order is the same on every run), with indexers.

use kube::{Resource, ResourceExt};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, RwLock};

/// The key of an object in a store and in the workqueue: namespace (None when cluster-scoped)
/// and name. Displays as `namespace/name` (client-go's `MetaNamespaceKeyFunc`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// Namespace.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// A reference from its parts.
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        Self {
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// The reference of an object.
    pub fn of<K: Resource>(obj: &K) -> Self {
        Self::new(obj.meta().namespace.as_deref(), &obj.name_any())
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// An index function: the index values of an object.
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

struct Inner<K> {
    objects: BTreeMap<ObjectRef, Arc<K>>,
    indexers: BTreeMap<String, IndexFn<K>>,
    indices: BTreeMap<String, BTreeMap<String, BTreeSet<ObjectRef>>>,
}

/// A shared, ordered object cache with indexers. Cloning gives another handle.
pub struct Store<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K> Default for Store<K> {
    fn default() -> Self {
        Self {
            inner: Arc::new(RwLock::new(Inner {
                objects: BTreeMap::new(),
                indexers: BTreeMap::new(),
                indices: BTreeMap::new(),
            })),
        }
    }
}

impl<K: Resource + Clone> Store<K> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner<K>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an indexer called `name` (existing objects are indexed at once).
    pub fn add_indexer(&self, name: &str, f: impl Fn(&K) -> Vec<String> + Send + Sync + 'static) {
        let mut g = self.write();
        let f: IndexFn<K> = Arc::new(f);
        let mut index: BTreeMap<String, BTreeSet<ObjectRef>> = BTreeMap::new();
        for (r, o) in &g.objects {
            for v in f(o) {
                index.entry(v).or_default().insert(r.clone());
            }
        }
        g.indices.insert(name.to_string(), index);
        g.indexers.insert(name.to_string(), f);
    }

    /// The object at `r`.
    pub fn get(&self, r: &ObjectRef) -> Option<Arc<K>> {
        self.read().objects.get(r).cloned()
    }

    /// Every object, in key order.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().objects.values().cloned().collect()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<ObjectRef> {
        self.read().objects.keys().cloned().collect()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Objects whose index `name` has `value`, in key order (empty for an unknown index).
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let g = self.read();
        let Some(refs) = g.indices.get(name).and_then(|i| i.get(value)) else {
            return Vec::new();
        };
        refs.iter()
            .filter_map(|r| g.objects.get(r).cloned())
            .collect()
    }

    /// Inserts or replaces an object; returns the previous one.
    pub fn apply(&self, obj: Arc<K>) -> Option<Arc<K>> {
        let r = ObjectRef::of(obj.as_ref());
        let mut g = self.write();
        let prev = g.objects.insert(r.clone(), obj.clone());
        let Inner {
            indexers, indices, ..
        } = &mut *g;
        for (name, f) in indexers.iter() {
            let index = indices.entry(name.clone()).or_default();
            if let Some(p) = &prev {
                for v in f(p) {
                    if let Some(set) = index.get_mut(&v) {
                        set.remove(&r);
                    }
                }
            }
            for v in f(&obj) {
                index.entry(v).or_default().insert(r.clone());
            }
        }
        prev
    }

    /// Removes the object at `r`; returns it.
    pub fn delete(&self, r: &ObjectRef) -> Option<Arc<K>> {
        let mut g = self.write();
        let prev = g.objects.remove(r)?;
        let Inner {
            indexers, indices, ..
        } = &mut *g;
        for (name, f) in indexers.iter() {
            if let Some(index) = indices.get_mut(name) {
                for v in f(&prev) {
                    if let Some(set) = index.get_mut(&v) {
                        set.remove(r);
                    }
                }
            }
        }
        Some(prev)
    }

    /// Replaces the whole content (after a list); returns the objects that disappeared.
    pub fn replace(&self, objects: Vec<Arc<K>>) -> Vec<Arc<K>> {
        let incoming: BTreeSet<ObjectRef> =
            objects.iter().map(|o| ObjectRef::of(o.as_ref())).collect();
        let gone: Vec<ObjectRef> = self
            .keys()
            .into_iter()
            .filter(|k| !incoming.contains(k))
            .collect();
        let removed = gone.iter().filter_map(|k| self.delete(k)).collect();
        for o in objects {
            self.apply(o);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    fn cm(ns: &str, name: &str, app: &str) -> Arc<ConfigMap> {
        let mut c = ConfigMap::default();
        c.metadata.namespace = Some(ns.into());
        c.metadata.name = Some(name.into());
        c.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        Arc::new(c)
    }

    #[test]
    fn objects_list_in_namespace_then_name_order() {
        let s = Store::new();
        for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y")] {
            s.apply(cm(ns, n, "web"));
        }
        let keys: Vec<String> = s.keys().iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, vec!["a/y", "a/z", "b/x"]);
    }

    #[test]
    fn indexers_follow_updates_deletes_and_replace() {
        let s = Store::new();
        s.add_indexer("app", |c: &ConfigMap| {
            c.labels().get("app").cloned().into_iter().collect()
        });
        s.apply(cm("a", "one", "web"));
        s.apply(cm("a", "two", "web"));
        assert_eq!(s.by_index("app", "web").len(), 2);
        s.apply(cm("a", "two", "db"));
        assert_eq!(s.by_index("app", "web").len(), 1);
        assert_eq!(s.by_index("app", "db").len(), 1);
        s.delete(&ObjectRef::new(Some("a"), "one"));
        assert!(s.by_index("app", "web").is_empty());
        let gone = s.replace(vec![cm("a", "three", "web")]);
        assert_eq!(gone.len(), 1, "`two` disappeared in the relist");
        assert_eq!(s.by_index("app", "web").len(), 1);
        assert!(s.by_index("app", "db").is_empty());
    }
}
