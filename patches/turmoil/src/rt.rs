use std::cell::RefCell;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use rand::rngs::SmallRng;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio::task::LocalSet;
use tokio::time::{sleep, Duration, Instant};

use super::Result;

// To support re-creation, we need to store a factory of the future that
// represents the software. This is somewhat annoying in that it requires
// boxxing to avoid generics.
type Software<'a> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result>>> + 'a>;

/// Runtime kinds.
pub enum Kind<'a> {
    /// A runtime for executing test code.
    Client,

    /// A runtime that is running simulated host software.
    Host { software: Software<'a> },

    /// A runtime without any software. The network topology uses this for
    /// time tracking and message delivery.
    NoSoftware,
}

/// Runtime configuration.
#[derive(Clone, Default)]
pub struct Config {
    /// Whether io is enabled on the runtime.
    pub enable_io: bool,

    /// Rng used to seed the tokio runtime.
    ///
    /// Only used if the `tokio_unstable` cfg flag is set.
    #[cfg_attr(not(tokio_unstable), expect(dead_code))]
    pub rng: Option<SmallRng>,
}

/// Per host simulated runtime.
///
/// The tokio runtime is paused (see [`Builder::start_paused`]), which gives us
/// control over when and how to advance time. In particular, see [`Rt::tick`],
/// which lets the runtime do a bit more work.
pub struct Rt<'a> {
    pub kind: Kind<'a>,

    /// Handle to the Tokio runtime driving this simulated host. Each runtime
    /// may have a different sense of "now" which simulates clock skew.
    tokio: Runtime,

    /// Local task set used for running !Send tasks.
    local: LocalSet,

    /// A user readable name to identify the node.
    pub nodename: Arc<str>,

    /// Optional handle to a host's software. When software finishes, the handle is
    /// consumed to check for error, which is propagated up to fail the simulation.
    handle: Option<JoinHandle<Result>>,

    /// Runtime configuration.
    config: Config,

    /// The simulated time (since the simulation started) this host's clock shows. Hosts with
    /// nothing to do are not polled by [`crate::Sim::step_to`]; their clock catches up when
    /// they next run.
    pub(crate) synced_to: Duration,

    /// Set when the host's `LocalSet` is woken and has not run since (see [`Flagged`]), and
    /// when software is (re)started.
    woken: Arc<AtomicBool>,

    /// What the runtime's clock shows, and its earliest timer. Its clock is paused, so both
    /// move only while the runtime runs (`block_on`), where timers are set, fire and are
    /// dropped: read after each run ([`Rt::sync`]), they spare [`Rt::now`] and
    /// [`Rt::next_timer`] entering the runtime, which [`crate::Sim::next_event`] does for every
    /// host at every step.
    now: Instant,
    deadline: Option<Instant>,
}

impl<'a> Rt<'a> {
    pub(crate) fn client<F>(nodename: Arc<str>, client: F, mut config: Config) -> Self
    where
        F: Future<Output = Result> + 'static,
    {
        let (tokio, local) = init(&mut config);
        let (now, deadline) = (clock_of(&tokio), deadline_of(&tokio));

        let handle = with(&tokio, &local, || tokio::task::spawn_local(client));

        Self {
            kind: Kind::Client,
            tokio,
            local,
            nodename,
            handle: Some(handle),
            config,
            synced_to: Duration::ZERO,
            woken: Arc::new(AtomicBool::new(true)),
            now,
            deadline,
        }
    }

    pub(crate) fn host<F, Fut>(nodename: Arc<str>, software: F, mut config: Config) -> Self
    where
        F: Fn() -> Fut + 'a,
        Fut: Future<Output = Result> + 'static,
    {
        let (tokio, local) = init(&mut config);
        let (now, deadline) = (clock_of(&tokio), deadline_of(&tokio));

        let software: Software = Box::new(move || Box::pin(software()));
        let handle = with(&tokio, &local, || tokio::task::spawn_local(software()));

        Self {
            kind: Kind::Host { software },
            tokio,
            local,
            nodename,
            handle: Some(handle),
            config,
            synced_to: Duration::ZERO,
            woken: Arc::new(AtomicBool::new(true)),
            now,
            deadline,
        }
    }

    pub(crate) fn no_software() -> Self {
        let mut config = Config::default();
        let (tokio, local) = init(&mut config);
        let (now, deadline) = (clock_of(&tokio), deadline_of(&tokio));

        Self {
            kind: Kind::NoSoftware,
            tokio,
            local,
            nodename: String::new().into(),
            handle: None,
            config,
            synced_to: Duration::ZERO,
            woken: Arc::new(AtomicBool::new(false)),
            now,
            deadline,
        }
    }

    pub(crate) fn is_client(&self) -> bool {
        matches!(self.kind, Kind::Client)
    }

    fn is_host(&self) -> bool {
        matches!(self.kind, Kind::Host { .. })
    }

    pub(crate) fn is_software_running(&self) -> bool {
        self.handle.is_some()
    }

    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    // This method is called by [`Sim::run`], which iterates through all the
    // runtimes and ticks each one. The magic of this method is described in the
    // documentation for [`LocalSet::run_until`], but it may not be entirely
    // obvious how things fit together.
    //
    // A [`LocalSet`] tracks the tasks to run, which may in turn spawn more
    // tasks. `run_until` drives a top level task to completion, but not its
    // children. If you look below, you may be confused. The task we run here
    // just sleeps and has no children! However, it's the _same `LocalSet`_ that
    // is used to run software on the host.
    //
    // In this way, every time `tick` is called, the following unfolds:
    //
    // 1. Time advances on the runtime
    // 2. We schedule a new task that simply sleeps
    // 3. Other tasks on the `LocalSet` get a chance to run
    // 4. The sleep finishes
    // 5. The runtime pauses
    //
    // Returns whether the software has finished successfully or the error
    // that caused failure. Subsequent calls do not return the error as it is
    // expected to fail the simulation.
    pub(crate) fn tick(&mut self, duration: Duration) -> Result<bool> {
        self.tokio.block_on(async {
            self.local
                .run_until(async {
                    sleep(duration).await;
                })
                .await
        });
        self.sync();

        self.software_finished()
    }

    /// Moves this host's clock forward by `by` and runs what is ready at the new time: the tasks
    /// woken before (by messages delivered, or by other hosts), then those whose timers expire
    /// at it. Tasks still ready afterwards make [`Rt::has_work`] true.
    ///
    /// Unlike [`Rt::tick`], time does not move on while the host runs: the host's next timer
    /// is a separate event ([`Rt::next_timer`]).
    pub(crate) fn run_after(&mut self, by: Duration) -> Result<bool> {
        let waker = Rc::new(RefCell::new(None));
        let run = Flagged {
            flag: self.woken.clone(),
            waker: waker.clone(),
            flag_waker: None,
            inner: Box::pin(self.local.run_until(Unflagged {
                waker,
                inner: Box::pin(async move {
                    // Moves the clock, then yields: ready tasks run at the new time.
                    tokio::time::advance(by).await;
                    // The yield let the driver fire the timers due now: run their tasks too.
                    tokio::task::yield_now().await;
                }),
            })),
        };
        self.tokio.block_on(run);
        self.sync();
        self.software_finished()
    }

    /// Whether the host has tasks ready to run (woken by a timer, a message or another host).
    pub(crate) fn has_work(&self) -> bool {
        if self.woken.load(Ordering::SeqCst) {
            return true;
        }
        let metrics = self.tokio.handle().metrics();
        if metrics.global_queue_depth() > 0 {
            return true;
        }
        #[cfg(tokio_unstable)]
        if metrics.worker_local_queue_depth(0) > 0 {
            return true;
        }
        false
    }

    /// The simulated time of the host's earliest timer, if it has one. Without `tokio_unstable`
    /// the runtime cannot tell: the host is then due at every step.
    pub(crate) fn next_timer(&self) -> Option<Duration> {
        #[cfg(tokio_unstable)]
        {
            let deadline = self.deadline?;
            Some(self.synced_to + deadline.saturating_duration_since(self.now))
        }
        #[cfg(not(tokio_unstable))]
        Some(self.synced_to)
    }

    fn software_finished(&mut self) -> Result<bool> {
        // pull for software completion
        match &self.handle {
            Some(handle) if handle.is_finished() => {
                // Consume handle to extract task result
                if let Some(h) = self.handle.take() {
                    let result = self.tokio.block_on(h);
                    self.sync();
                    match result {
                        // If the host was crashed the JoinError is cancelled, which
                        // needs to be handled to not fail the simulation.
                        Err(je) if je.is_cancelled() => {}
                        res => res??,
                    }
                };
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    pub(crate) fn crash(&mut self) {
        if !self.is_host() {
            panic!("can only crash host's software");
        }

        if self.handle.take().is_some() {
            self.cancel_tasks();
        };
    }

    pub(crate) fn bounce(&mut self) {
        if !self.is_host() {
            panic!("can only bounce host's software");
        }

        self.cancel_tasks();

        if let Kind::Host { software } = &self.kind {
            let handle = with(&self.tokio, &self.local, || {
                tokio::task::spawn_local(software())
            });
            self.handle.replace(handle);
            self.woken.store(true, Ordering::SeqCst);
        };
        self.sync();
    }

    /// Reads the runtime's clock and earliest timer (after it ran, or was replaced).
    fn sync(&mut self) {
        self.now = clock_of(&self.tokio);
        self.deadline = deadline_of(&self.tokio);
    }

    /// Cancel all tasks within the [`Rt`] by dropping the current tokio
    /// [`Runtime`].
    ///
    /// Dropping the runtime blocks the calling thread until all futures have
    /// completed, which is desired here to ensure host software completes and
    /// all resources are dropped.
    ///
    /// Both the [`Runtime`] and [`LocalSet`] are replaced with new instances.
    fn cancel_tasks(&mut self) {
        let (tokio, local) = init(&mut self.config);

        _ = mem::replace(&mut self.tokio, tokio);
        drop(mem::replace(&mut self.local, local));
        self.sync();
    }
}

/// What the clock of `tokio` shows now.
fn clock_of(tokio: &Runtime) -> Instant {
    let _guard = tokio.enter();
    Instant::now()
}

/// When the earliest timer of `tokio` expires (`None`: no timer, or no way to know).
fn deadline_of(tokio: &Runtime) -> Option<Instant> {
    #[cfg(tokio_unstable)]
    return tokio.handle().next_timer_deadline();
    #[cfg(not(tokio_unstable))]
    {
        let _ = tokio;
        None
    }
}

fn init(config: &mut Config) -> (Runtime, LocalSet) {
    let mut tokio_builder = tokio::runtime::Builder::new_current_thread();

    #[cfg(tokio_unstable)]
    tokio_builder.unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime);

    if config.enable_io {
        tokio_builder.enable_io();
    }

    #[cfg(tokio_unstable)]
    if let Some(rng) = &mut config.rng {
        let bytes: [u8; 32] = rand::Rng::random(rng);
        let seed = tokio::runtime::RngSeed::from_bytes(&bytes);
        tokio_builder.rng_seed(seed);
    }

    let tokio = tokio_builder
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();

    tokio.block_on(async {
        // Sleep to "round" `Instant::now()` to the closest `ms`
        tokio::time::sleep(Duration::from_millis(1)).await;
    });

    (tokio, new_local())
}

fn new_local() -> LocalSet {
    #[cfg(not(tokio_unstable))]
    let local = LocalSet::new();

    #[cfg(tokio_unstable)]
    let mut local = LocalSet::new();

    #[cfg(tokio_unstable)]
    local.unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime);

    local
}

fn with<R>(tokio: &Runtime, local: &LocalSet, f: impl FnOnce() -> R) -> R {
    tokio.block_on(async { local.run_until(async { f() }).await })
}

/// Wraps the future that runs a host's `LocalSet` ([`Rt::run_after`]) and raises `flag` when the
/// `LocalSet` is woken: the `LocalSet` registers the waker it is polled with, so a task woken
/// from outside a `LocalSet` tick (by the time driver, by another host) wakes this waker.
///
/// A poll that leaves `inner` pending has run the `LocalSet`, so the flag is lowered first; the
/// poll that completes `inner` does not run it, so a wake before that poll stays flagged.
struct Flagged<F> {
    flag: Arc<AtomicBool>,
    /// The waker the runtime polls with, for [`Unflagged`].
    waker: Rc<RefCell<Option<Waker>>>,
    flag_waker: Option<(Waker, Waker)>,
    inner: F,
}

struct FlagWaker {
    flag: Arc<AtomicBool>,
    inner: Waker,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.flag.store(true, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

impl<F: Future + Unpin> Future for Flagged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        *this.waker.borrow_mut() = Some(cx.waker().clone());
        let waker = match &this.flag_waker {
            Some((inner, flagged)) if inner.will_wake(cx.waker()) => flagged.clone(),
            _ => {
                let flagged = Waker::from(Arc::new(FlagWaker {
                    flag: this.flag.clone(),
                    inner: cx.waker().clone(),
                }));
                this.flag_waker = Some((cx.waker().clone(), flagged.clone()));
                flagged
            }
        };
        let was_woken = this.flag.swap(false, Ordering::SeqCst);
        let poll = Pin::new(&mut this.inner).poll(&mut Context::from_waker(&waker));
        if poll.is_ready() && was_woken {
            this.flag.store(true, Ordering::SeqCst);
        }
        poll
    }
}

/// The future inside the `LocalSet` of a [`Flagged`] run: it wakes the runtime directly, so its
/// own wake-ups (a yield) are not taken for the `LocalSet`'s.
struct Unflagged {
    waker: Rc<RefCell<Option<Waker>>>,
    inner: Pin<Box<dyn Future<Output = ()>>>,
}

impl Future for Unflagged {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let waker = self.waker.borrow().clone();
        let waker = waker.unwrap_or_else(|| cx.waker().clone());
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}
