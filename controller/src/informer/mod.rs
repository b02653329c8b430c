//! Informer: list, then watch from the list's resourceVersion, into an ordered store, calling a
//! handler for every change (client-go's `tools/cache` reflector + shared informer).
//!
//! The loop is an explicit state machine (the private `State`):
//! - `List`: list the resource (most recent); replace the store (objects that vanished are
//!   handed to the handler as deletes); mark synced; go to `Watch` from the list's version.
//! - `Watch`: watch from the last seen resourceVersion with bookmarks; apply each event to the
//!   store and the handler. A 410 (`Expired`, as an ERROR event or as the call's answer) goes back
//!   to `List` (relist). A stream that ends (server timeout) re-watches at once. Any other error
//!   backs off (800 ms .. 30 s, factor 2, seeded jitter) and re-watches.
//! - A failed list backs off and lists again.
//!
//! This is our own reflector rather than kube-runtime's `watcher`: the steps are history events,
//! the backoff takes a seeded RNG, and the store is a `BTreeMap`.

pub mod backoff;
pub mod store;

use crate::context::Context;
use crate::observer::SharedObserver;
use backoff::{Backoff, BackoffConfig};
use futures::StreamExt;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::Resource;
use kubesim_model::EventKind;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
pub use store::{ObjectRef, Store};

/// A change the informer hands to its handler.
#[derive(Debug, Clone)]
pub enum Change<K> {
    /// The object was added or updated (or is re-delivered by a relist or resync).
    Apply(Arc<K>),
    /// The object was deleted (or vanished between two lists).
    Delete(Arc<K>),
}

impl<K> Change<K> {
    /// The object.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Self::Apply(o) | Self::Delete(o) => o,
        }
    }
}

/// Settings of an [`Informer`].
#[derive(Debug, Clone)]
pub struct InformerConfig {
    /// `labelSelector` of list and watch.
    pub label_selector: Option<String>,
    /// `fieldSelector` of list and watch.
    pub field_selector: Option<String>,
    /// `timeoutSeconds` asked of each watch (client-go: 5..10 min; kube-runtime: 290 s).
    pub watch_timeout: Duration,
    /// Re-deliver every object to the handler this often (client-go's resync); `None`: never.
    pub resync: Option<Duration>,
    /// Backoff after errors.
    pub backoff: BackoffConfig,
    /// Deadline of each list and of each watch's opening request.
    pub request_timeout: Duration,
    /// A watch stream silent this long past its `watch_timeout` is treated as dead (a broken
    /// connection need not end the stream) and re-opened.
    pub watch_idle_grace: Duration,
}

impl Default for InformerConfig {
    fn default() -> Self {
        Self {
            label_selector: None,
            field_selector: None,
            watch_timeout: Duration::from_secs(290),
            resync: None,
            backoff: BackoffConfig::default(),
            request_timeout: Duration::from_secs(60),
            watch_idle_grace: Duration::from_secs(30),
        }
    }
}

/// Where the informer's loop is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// List next (first time, or relist).
    List,
    /// Watch from this resourceVersion.
    Watch(String),
}

/// A list-watch loop over one resource into a [`Store`].
pub struct Informer<K: Resource> {
    api: Api<K>,
    store: Store<K>,
    config: InformerConfig,
    backoff: Backoff,
    synced: tokio::sync::watch::Sender<bool>,
    observer: SharedObserver,
    resource: String,
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// An informer over `api`, drawing backoff jitter from `rng`, reporting to `observer`.
    pub fn new(
        api: Api<K>,
        config: InformerConfig,
        rng: Box<dyn rand::RngCore + Send>,
        observer: SharedObserver,
    ) -> Self {
        let backoff = Backoff::new(config.backoff, rng);
        Self {
            api,
            store: Store::new(),
            config,
            backoff,
            synced: tokio::sync::watch::channel(false).0,
            observer,
            resource: K::plural(&()).to_string(),
        }
    }

    /// The store this informer fills.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Fills `store` instead of a store of its own (a cache handed out before the informer was
    /// built, as [`crate::Controller::store`] does).
    pub fn with_store(mut self, store: Store<K>) -> Self {
        self.store = store;
        self
    }

    /// Follows whether the first list has completed (client-go's `HasSynced`).
    pub fn synced(&self) -> tokio::sync::watch::Receiver<bool> {
        self.synced.subscribe()
    }

    fn note(&self, text: String) {
        self.observer.record(EventKind::Informer {
            resource: self.resource.clone(),
            text,
        });
    }

    fn list_params(&self) -> ListParams {
        ListParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            ..ListParams::default()
        }
    }

    fn watch_params(&self) -> WatchParams {
        let mut wp = WatchParams::default().timeout(self.config.watch_timeout.as_secs() as u32);
        wp.label_selector = self.config.label_selector.clone();
        wp.field_selector = self.config.field_selector.clone();
        wp
    }

    /// Waits out one backoff period under `ctx`; false when the context ended.
    async fn back_off(&mut self, ctx: &Context, why: &str) -> bool {
        let d = self.backoff.next_delay();
        self.note(format!("backoff {}ms after {why}", d.as_millis()));
        ctx.run(tokio::time::sleep(d)).await.is_ok()
    }

    /// Runs until `ctx` ends, calling `handler` for every change.
    pub async fn run(mut self, ctx: Context, mut handler: impl FnMut(Change<K>) + Send) {
        let mut state = State::List;
        let mut resync = self.config.resync.map(|p| {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + p, p); // det-ok: tokio::time::Instant, the host's simulated clock
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        loop {
            if ctx.is_done() {
                return;
            }
            state = match state {
                State::List => match ctx
                    .with_timeout(self.config.request_timeout)
                    .run(self.api.list(&self.list_params()))
                    .await
                {
                    Err(_) if ctx.is_done() => return,
                    Err(c) => {
                        if !self.back_off(&ctx, &format!("list {c}")).await {
                            return;
                        }
                        State::List
                    }
                    Ok(Err(e)) => {
                        if !self.back_off(&ctx, &format!("list {}", describe(&e))).await {
                            return;
                        }
                        State::List
                    }
                    Ok(Ok(list)) => {
                        let rv = list.metadata.resource_version.clone().unwrap_or_default();
                        let items: Vec<Arc<K>> = list.items.into_iter().map(Arc::new).collect();
                        self.note(format!("list rv={rv} items={}", items.len()));
                        for gone in self.store.replace(items.clone()) {
                            handler(Change::Delete(gone));
                        }
                        for o in items {
                            handler(Change::Apply(o));
                        }
                        if !*self.synced.borrow() {
                            self.synced.send_replace(true);
                            self.note("synced".into());
                        }
                        self.backoff.reset();
                        State::Watch(rv)
                    }
                },
                State::Watch(rv) => {
                    self.note(format!("watch rv={rv}"));
                    let opening = ctx.with_timeout(self.config.request_timeout);
                    match opening.run(self.api.watch(&self.watch_params(), &rv)).await {
                        Err(_) if ctx.is_done() => return,
                        Err(c) => {
                            if !self.back_off(&ctx, &format!("watch {c}")).await {
                                return;
                            }
                            State::Watch(rv)
                        }
                        Ok(Err(e)) if is_expired(&e) => {
                            self.note("relist after 410 Expired".into());
                            State::List
                        }
                        Ok(Err(e)) => {
                            if !self
                                .back_off(&ctx, &format!("watch {}", describe(&e)))
                                .await
                            {
                                return;
                            }
                            State::Watch(rv)
                        }
                        Ok(Ok(stream)) => {
                            let mut stream = stream.boxed();
                            let mut rv = rv;
                            let idle = self.config.watch_timeout + self.config.watch_idle_grace;
                            let next = loop {
                                let ev = match resync.as_mut() {
                                    Some(r) => {
                                        tokio::select! {
                                            biased;
                                            ev = ctx.run(tokio::time::timeout(idle, stream.next())) => ev,
                                            _ = r.tick() => {
                                                self.note("resync".into());
                                                for o in self.store.list() {
                                                    handler(Change::Apply(o));
                                                }
                                                continue;
                                            }
                                        }
                                    }
                                    None => {
                                        ctx.run(tokio::time::timeout(idle, stream.next())).await
                                    }
                                };
                                let ev = match ev {
                                    Err(_) => return,
                                    Ok(Err(_)) => {
                                        self.note("watch idle, reopening".into());
                                        break State::Watch(rv);
                                    }
                                    Ok(Ok(ev)) => ev,
                                };
                                match ev {
                                    None => break State::Watch(rv),
                                    Some(Ok(ev)) => match self.apply(ev, &mut rv, &mut handler) {
                                        Ok(()) => self.backoff.reset(),
                                        Err(Expired) => {
                                            self.note("relist after 410 Expired".into());
                                            break State::List;
                                        }
                                    },
                                    Some(Err(e)) => {
                                        if !self
                                            .back_off(
                                                &ctx,
                                                &format!("watch stream {}", describe(&e)),
                                            )
                                            .await
                                        {
                                            return;
                                        }
                                        break State::Watch(rv);
                                    }
                                }
                            };
                            next
                        }
                    }
                }
            };
        }
    }

    /// Applies one watch event to the store and the handler.
    fn apply(
        &mut self,
        ev: WatchEvent<K>,
        rv: &mut String,
        handler: &mut impl FnMut(Change<K>),
    ) -> Result<(), Expired> {
        match ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                *rv = o
                    .meta()
                    .resource_version
                    .clone()
                    .unwrap_or_else(|| rv.clone());
                let o = Arc::new(o);
                self.store.apply(o.clone());
                handler(Change::Apply(o));
            }
            WatchEvent::Deleted(o) => {
                *rv = o
                    .meta()
                    .resource_version
                    .clone()
                    .unwrap_or_else(|| rv.clone());
                let removed = self.store.delete(&ObjectRef::of(&o));
                handler(Change::Delete(removed.unwrap_or_else(|| Arc::new(o))));
            }
            WatchEvent::Bookmark(b) => *rv = b.metadata.resource_version,
            WatchEvent::Error(e) if e.code == 410 => return Err(Expired),
            WatchEvent::Error(e) => self.note(format!("watch error {} {}", e.code, e.reason)),
        }
        Ok(())
    }
}

/// A 410 from the API server.
struct Expired;

fn is_expired(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

/// A stable, address-free description of an error, for histories.
pub fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.reason),
        kube::Error::HyperError(_) | kube::Error::Service(_) => "transport error".into(),
        kube::Error::SerdeError(_) => "decode error".into(),
        _ => "client error".into(),
    }
}
