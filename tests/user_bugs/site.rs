//! The user's controller: a `Site` (an app label, a replica count and an image) owns `replicas`
//! Pods running the image and reports them in its status. [`reconcile`] is the correct logic; each [`Flaws`] field switches
//! on one of the mistakes of the other modules, and the comment at each switch says what the
//! mistake is and what the fix does.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchParams};
use kube::{CustomResource, Resource, ResourceExt};
use kubesim::prelude::*;
use kubesim_controller::{Change, Context, ObjectRef, TaskSet};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A web site: `replicas` Pods labelled `app`.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Site",
    namespaced,
    status = "SiteStatus"
)]
pub struct SiteSpec {
    /// The app label of the site's Pods.
    pub app: String,
    /// How many Pods to keep.
    pub replicas: u32,
    /// The image the Pods run (changed in place, as a Pod's image can be).
    pub image: String,
}

/// What the controller last did for a site.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteStatus {
    /// Pods the site has.
    pub replicas: u32,
    /// The generation those Pods were made for.
    pub observed_generation: Option<i64>,
    /// When the controller last reconciled the site (bug 1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconciled: Option<String>,
}

/// The namespace of every object.
pub const NAMESPACE: &str = "default";
/// The label naming a Pod's site.
pub const SITE_LABEL: &str = "example.com/site";
/// The label naming a Pod's app.
pub const APP_LABEL: &str = "app";
/// When the run ends (the workload returns).
pub const END_AT: Duration = Duration::from_secs(100);

/// The mistakes the controller can be built with; `Flaws::default()` is the correct controller.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flaws {
    /// Bug 1: stamp `lastReconciled` and write status on every reconcile.
    pub stamp_status: bool,
    /// Bug 3: a 409 on the status write ends the reconcile with `Ok`.
    pub swallow_conflict: bool,
    /// Bug 4: Pods selected and named by the app label only.
    pub label_only: bool,
    /// Bug 6: after creating Pods, watch them until they are ready, on a task of this kind.
    pub ready_watch: Option<WatchTask>,
}

/// Where the readiness watch of bug 6 runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchTask {
    /// A plain `tokio::spawn`: the mistake.
    Detached,
    /// The controller's task set, under its stop context: the fix.
    Tracked,
}

/// What a reconcile needs.
pub struct Data {
    /// The host's client.
    pub client: kube::Client,
    /// The mistakes switched on.
    pub flaws: Flaws,
    /// Under leader election, the replica's identity, written on each Pod as
    /// `kubesim.io/writer` so the single-writer oracle can attribute the write.
    pub writer: Option<String>,
    /// Where tracked background work runs (the readiness watches of the fixed bug 6), and the
    /// stop context that ends it.
    pub background: Option<(TaskSet, Context)>,
}

/// An API call that failed.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct Error {
    what: &'static str,
    #[source]
    source: kube::Error,
}

impl Error {
    fn api(what: &'static str) -> impl FnOnce(kube::Error) -> Self {
        move |source| Self { what, source }
    }
}

fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// The world settings: two API server replicas, seeded latencies and watch cache lags.
pub fn config(rng: &mut SimRng) -> WorldConfig {
    WorldConfig {
        replicas: 2,
        latency_min: Duration::from_micros(rng.random_range(100..=2_000)),
        latency_max: Duration::from_millis(rng.random_range(3..=30)),
        cache_lag_max: Duration::from_millis(rng.random_range(0..=500)),
        duration_max: END_AT + Duration::from_secs(30),
        ..WorldConfig::default()
    }
}

/// The workload: three sites of one app, 1-4 replicas, then twelve changes 1.5-4.5 s apart
/// (so they go on through the 40 s fault phase), each a scale to 0-5 or a new image, but the
/// fourth, which deletes a site.
pub fn workload() -> Workload<Site> {
    Workload {
        namespace: NAMESPACE.into(),
        prefix: "site-".into(),
        count: 3,
        make: |name, rng| {
            let replicas = rng.random_range(1..=4);
            let spec = SiteSpec {
                app: "web".into(),
                replicas,
                image: "web:1".into(),
            };
            (Site::new(name, spec), format!("replicas={replicas}"))
        },
        steps: 12,
        change_verb: "scale",
        change: |rng| {
            if rng.random_bool(0.5) {
                let replicas = rng.random_range(0..=5);
                (
                    json!({ "spec": { "replicas": replicas } }),
                    format!("replicas={replicas}"),
                )
            } else {
                let image = format!("web:{}", rng.random_range(1..=9));
                (
                    json!({ "spec": { "image": image } }),
                    format!("image={image}"),
                )
            }
        },
        delete_at: Some(3),
        pause_ms: 1_500..4_500,
        end_at: END_AT,
    }
}

/// The desired state: every site has `replicas` Pods it controls and a status that says so for
/// its current generation.
pub fn converged(objects: &Objects) -> Result<(), String> {
    let pods = objects.of::<Pod>();
    for site in objects.of::<Site>() {
        if site.meta().deletion_timestamp.is_some() {
            continue;
        }
        let name = site.name_any();
        let uid = site.uid();
        let owned: Vec<&Pod> = pods
            .iter()
            .filter(|p| p.meta().deletion_timestamp.is_none())
            .filter(|p| controlled_by(p, uid.as_deref()))
            .collect();
        if let Some(stale) = owned.iter().find(|p| image_of(p) != Some(&site.spec.image)) {
            return Err(format!(
                "{name} wants image {}, pod {} runs {:?}",
                site.spec.image,
                stale.name_any(),
                image_of(stale)
            ));
        }
        let owned = owned.len();
        if owned != site.spec.replicas as usize {
            return Err(format!(
                "{name} wants {} pods, controls {owned}",
                site.spec.replicas
            ));
        }
        let status = site.status.clone().unwrap_or_default();
        if status.observed_generation != site.meta().generation
            || status.replicas != site.spec.replicas
        {
            return Err(format!(
                "{name} status {status:?} at generation {:?}, spec {:?}",
                site.meta().generation,
                site.spec
            ));
        }
    }
    Ok(())
}

/// The image of `pod`'s first container.
pub fn image_of(pod: &Pod) -> Option<&String> {
    pod.spec.as_ref()?.containers.first()?.image.as_ref()
}

/// Whether `pod`'s controller reference names the object with `uid`.
pub fn controlled_by(pod: &Pod, uid: Option<&str>) -> bool {
    pod.owner_references()
        .iter()
        .any(|o| o.controller == Some(true) && Some(o.uid.as_str()) == uid)
}

/// One reconcile of `site`: the Pods it should have, then its status.
pub async fn reconcile(site: Arc<Site>, data: Arc<Data>) -> Result<(), Error> {
    let name = site.name_any();
    let ns = site.namespace().unwrap_or_else(|| NAMESPACE.into());
    let pods: Api<Pod> = Api::namespaced(data.client.clone(), &ns);
    let flaws = data.flaws;
    // Bug 4 (label_fight): the Pods are the app's, found by the app label alone and named after
    // the app, so two sites of one app count (and create, and delete) the same Pods. The fix:
    // name them after the site and keep only those the site controls (ownerReference uid).
    let (selector, prefix) = if flaws.label_only {
        (
            format!("{APP_LABEL}={}", site.spec.app),
            site.spec.app.clone(),
        )
    } else {
        (format!("{SITE_LABEL}={name}"), name.clone())
    };
    let listed = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(Error::api("list pods"))?;
    let uid = site.uid();
    let mine: Vec<&Pod> = listed
        .items
        .iter()
        .filter(|p| p.meta().deletion_timestamp.is_none())
        .filter(|p| flaws.label_only || controlled_by(p, uid.as_deref()))
        .collect();
    let wanted: Vec<String> = (0..site.spec.replicas)
        .map(|i| format!("{prefix}-{i}"))
        .collect();
    for pod in &mine {
        let pod_name = pod.name_any();
        if !wanted.contains(&pod_name) {
            match pods.delete(&pod_name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if code(&e) == Some(404) => {}
                Err(e) => return Err(Error::api("delete pod")(e)),
            }
        }
    }
    for pod in &mine {
        if wanted.contains(&pod.name_any()) && image_of(pod) != Some(&site.spec.image) {
            set_image(&pods, pod, &site.spec.image, flaws).await?;
        }
    }
    let mut created = false;
    for pod_name in &wanted {
        if mine.iter().any(|p| p.name_any() == *pod_name) {
            continue;
        }
        let pod = new_pod(&site, pod_name, data.writer.as_deref());
        match pods.create(&PostParams::default(), &pod).await {
            Ok(_) => created = true,
            // Already there (our cache is behind): the next event of it brings us back.
            Err(e) if code(&e) == Some(409) => {}
            Err(e) => return Err(Error::api("create pod")(e)),
        }
    }
    if let (true, Some(task)) = (created, flaws.ready_watch) {
        watch_until_ready(&pods, &selector, task, &data);
    }
    write_status(&site, &data).await
}

/// A Pod of `site` called `name`, controlled by the site.
fn new_pod(site: &Site, name: &str, writer: Option<&str>) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some(name.to_string());
    pod.metadata.labels = Some(BTreeMap::from([
        (APP_LABEL.to_string(), site.spec.app.clone()),
        (SITE_LABEL.to_string(), site.name_any()),
    ]));
    if let Some(writer) = writer {
        pod.metadata.annotations = Some(BTreeMap::from([(
            "kubesim.io/writer".to_string(),
            writer.to_string(),
        )]));
    }
    pod.metadata.owner_references = site.controller_owner_ref(&()).map(|o| vec![o]);
    pod.spec = Some(PodSpec {
        containers: vec![Container {
            name: "web".into(),
            image: Some(site.spec.image.clone()),
            ..Container::default()
        }],
        ..PodSpec::default()
    });
    pod
}

/// Moves `pod` to `image`, conditional on the resourceVersion it was listed at.
async fn set_image(pods: &Api<Pod>, pod: &Pod, image: &str, flaws: Flaws) -> Result<(), Error> {
    let mut updated = pod.clone();
    if let Some(c) = updated.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        c.image = Some(image.to_string());
    }
    match pods
        .replace(&pod.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some(404) => Ok(()),
        // Bug 3 (swallowed_conflict), as on the status write below.
        Err(e) if code(&e) == Some(409) && flaws.swallow_conflict => Ok(()),
        Err(e) => Err(Error::api("replace pod")(e)),
    }
}

/// Writes the site's status when it changed (always, with bug 1's timestamp), conditional on
/// the resourceVersion the reconcile read.
async fn write_status(site: &Site, data: &Data) -> Result<(), Error> {
    let flaws = data.flaws;
    let mut status = SiteStatus {
        replicas: site.spec.replicas,
        observed_generation: site.meta().generation,
        last_reconciled: None,
    };
    // Bug 1 (status_every_reconcile): a "last reconciled" timestamp, so the status differs on
    // every reconcile and is written every time; each write is an event of the site, which is
    // reconciled again. The fix: status says what was observed, and is written only when that
    // changed.
    if flaws.stamp_status {
        status.last_reconciled = Some(k8s_openapi::jiff::Timestamp::now().to_string());
    } else if site.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<Site> = Api::namespaced(
        data.client.clone(),
        &site.namespace().unwrap_or_else(|| NAMESPACE.into()),
    );
    let mut updated = site.clone();
    updated.status = Some(status);
    match api
        .replace_status(&site.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(()),
        // Bug 3 (swallowed_conflict): "someone else updated the site, never mind". Nothing
        // requeues the site, so its status stays behind unless another event comes. The fix:
        // return the error; the rate-limited retry re-reads the site.
        Err(e) if code(&e) == Some(409) && flaws.swallow_conflict => Ok(()),
        Err(e) => Err(Error::api("replace site status")(e)),
    }
}

/// Bug 6 (detached_watch): wait for the new Pods to be ready by watching them, re-watching
/// whenever the stream ends. Nothing in the simulation makes a Pod ready, as on a cluster
/// where an image cannot be pulled, so the loop never ends by itself. The mistake is the plain
/// `tokio::spawn`: no one stops it, and the runtime's task set does not know it. The fix runs
/// it in the controller's task set under the stop context.
fn watch_until_ready(pods: &Api<Pod>, selector: &str, task: WatchTask, data: &Data) {
    let (pods, wp) = (pods.clone(), WatchParams::default().labels(selector));
    let watch = async move {
        loop {
            if let Ok(stream) = pods.watch(&wp, "0").await {
                let mut stream = stream.boxed();
                while let Ok(Some(_event)) = stream.try_next().await {
                    // A real controller would look at the Pods' Ready condition here.
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    match (task, &data.background) {
        (WatchTask::Tracked, Some((tasks, stop))) => {
            let stop = stop.clone();
            tasks.spawn("ready-watch", async move {
                let _ = stop.run(watch).await;
            });
        }
        _ => {
            tokio::spawn(watch);
        }
    }
}

/// A host running the site controller on kubesim-controller's `Controller`, as the user's
/// `main` would build it, with the switches the scenarios need.
#[derive(Clone, Copy, Default)]
pub struct SiteController {
    /// The mistakes switched on.
    pub flaws: Flaws,
    /// What a successful reconcile returns (`None`: `Action::await_change()`).
    pub on_success: Option<kubesim_controller::Action>,
    /// The controller does not watch Pods: it relies on requeues to notice them change.
    pub polls_pods: bool,
    /// When the controller is told to stop (then `runtime site stopping: shutdown`, the tasks'
    /// leak check, and the leak oracles judge what is still open).
    pub stop_at: Option<Duration>,
}

/// The controller's settings: a 10 s deadline per reconcile, watches re-opened every minute.
pub fn controller_config(seed: u64) -> kubesim_controller::ControllerConfig {
    kubesim_controller::ControllerConfig {
        name: "site".into(),
        seed,
        reconcile_timeout: Some(Duration::from_secs(10)),
        shutdown_grace: Duration::from_secs(2),
        informer: kubesim_controller::InformerConfig {
            watch_timeout: Duration::from_secs(60),
            ..kubesim_controller::InformerConfig::default()
        },
        ..kubesim_controller::ControllerConfig::default()
    }
}

/// The sites' app labels, kept by the user's own handler of site events (the runtime's
/// `Controller::store()` is not the store its informer fills).
pub type Apps = Arc<Mutex<BTreeMap<ObjectRef, String>>>;

/// The Pod informer's event handler: which sites a Pod change concerns. Correctly, its
/// controller (`owns`); with bug 4, every site of the Pod's app label.
pub fn pod_owners(
    flaws: Flaws,
    apps: Apps,
) -> impl Fn(Change<Pod>) -> Vec<ObjectRef> + Send + Sync {
    move |change| {
        let pod = change.object();
        if flaws.label_only {
            let app = pod.labels().get(APP_LABEL);
            let apps = apps.lock().unwrap_or_else(|p| p.into_inner());
            apps.iter()
                .filter(|(_, a)| Some(*a) == app)
                .map(|(key, _)| key.clone())
                .collect()
        } else {
            kubesim_controller::owner_keys(pod.as_ref(), "Site")
        }
    }
}

/// The site event handler that keeps [`Apps`] (it enqueues nothing: the primary informer does).
pub fn index_apps(apps: Apps) -> impl Fn(Change<Site>) -> Vec<ObjectRef> + Send + Sync {
    move |change| {
        let key = ObjectRef::of(change.object().as_ref());
        let mut apps = apps.lock().unwrap_or_else(|p| p.into_inner());
        match change {
            Change::Apply(site) => apps.insert(key, site.spec.app.clone()),
            Change::Delete(_) => apps.remove(&key),
        };
        Vec::new()
    }
}

impl SiteController {
    /// Adds the controller as host `name`.
    pub fn add(self, world: &mut World, name: &str) {
        world.add_controller(name, move |host| async move {
            use kubesim_controller::{default_error_policy, Action, Controller, InformerConfig};
            let client = host.client();
            let observer = host.observer();
            let shutdown = self.stop_at.map(Shutdown::at);
            let stop = shutdown
                .as_ref()
                .map_or_else(Context::background, |s| s.stop.clone());
            let mut controller = Controller::new(
                Api::<Site>::all(client.clone()),
                controller_config(host.seed()),
            )
            .observer(observer.clone());
            let apps = Apps::default();
            if self.flaws.label_only {
                let sites = Api::<Site>::all(client.clone());
                controller =
                    controller.watches(sites, InformerConfig::default(), index_apps(apps.clone()));
            }
            if !self.polls_pods {
                let pods = Api::<Pod>::all(client.clone());
                let mapper = pod_owners(self.flaws, apps);
                controller = controller.watches(pods, InformerConfig::default(), mapper);
            }
            let tasks = controller.tasks();
            let before = tasks.live();
            let data = Arc::new(Data {
                client,
                flaws: self.flaws,
                writer: None,
                background: Some((tasks.clone(), stop.clone())),
            });
            let on_success = self.on_success.unwrap_or(Action::await_change());
            let run = controller.run(
                move |site, _ctx, data| async move {
                    reconcile(site, data).await?;
                    Ok::<_, Error>(on_success)
                },
                default_error_policy,
                data,
                stop,
            );
            match shutdown {
                Some(shutdown) => {
                    shutdown
                        .await_and_check_leaks(run, &before, &tasks, &observer)
                        .await;
                    // The host stays up (and so does any task it leaked) until the run ends.
                    std::future::pending::<()>().await;
                }
                None => run.await,
            }
        });
    }
}

/// The world every scenario but bug 5's runs: the `Site` resource, the controller `add` puts
/// on host `controller-0`, the workload, and `converges` with `deadline` after the heal.
pub fn setup_with(world: &mut World, deadline: Option<Duration>, add: impl FnOnce(&mut World)) {
    world.register_crd::<Site>();
    add(world);
    workload().start(world, "workload");
    add_pod_deleter(world);
    world.converges_within(deadline, converged);
}

/// When a user deletes one Pod by hand (after the faults healed).
pub const POD_DELETED_AT: Duration = Duration::from_secs(50);

/// A user who deletes one Pod, drawn from the seed, at [`POD_DELETED_AT`] (a node drained by
/// hand): the controller must notice and replace it.
fn add_pod_deleter(world: &mut World) {
    world.add_client("operator", |host| async move {
        tokio::time::sleep(POD_DELETED_AT).await;
        let pods: Api<Pod> = Api::namespaced(host.client(), NAMESPACE);
        let Ok(list) = pods.list(&ListParams::default()).await else {
            return;
        };
        let names: Vec<String> = list.items.iter().map(|p| p.name_any()).collect();
        if names.is_empty() {
            return;
        }
        let name = names[host.rng().random_range(0..names.len())].clone();
        let dp = DeleteParams::default();
        insist(&host, &format!("delete pod {name}"), || {
            pods.delete(&name, &dp)
        })
        .await;
    });
}
