//! Running work, such as a [`Controller`](crate::Controller), only while leading.

use super::elector::{LeaderElector, TermEnd};
use crate::context::Context;
use std::future::Future;

/// Runs `start(lead)` for every term this candidate wins, until `stop` ends.
///
/// `lead` is cancelled with [`CancelReason::LeadershipLost`](crate::CancelReason) as soon as a
/// renewal has failed for `renew_deadline` (a [`Controller`](crate::Controller) run under it
/// cancels its in-flight reconciles at once), or with the stop reason on shutdown. The next term
/// starts only after the previous `start` future has returned. Returns the number of terms led.
///
/// ```no_run
/// # async fn example(elector: kubesim_controller::leader::LeaderElector,
/// #     make: impl Fn() -> kubesim_controller::Controller<k8s_openapi::api::core::v1::ConfigMap>) {
/// use kubesim_controller::{leader::run_while_leading, Action, Context};
/// use std::sync::Arc;
/// let stop = Context::background();
/// run_while_leading(&elector, &stop, |lead| {
///     make().run(
///         |_cm, _ctx, _data: Arc<()>| async { Ok::<_, std::io::Error>(Action::await_change()) },
///         |_cm, _err, _data| Action::requeue(),
///         Arc::new(()),
///         lead,
///     )
/// })
/// .await;
/// # }
/// ```
pub async fn run_while_leading<F, Fut>(elector: &LeaderElector, stop: &Context, mut start: F) -> u32
where
    F: FnMut(Context) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut terms = 0u32;
    while !stop.is_done() {
        match elector.run(stop, &mut start).await {
            TermEnd::Lost | TermEnd::Stopped => terms += 1,
            TermEnd::NotAcquired => break,
        }
    }
    terms
}
