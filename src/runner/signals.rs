//! Signals that stop a pass over the cases: Ctrl-C, SIGTERM (what `timeout` and CI cancellation
//! send) and SIGHUP (a closed terminal) all set the [`Cancel`] flag, so every run is killed and
//! what finished is kept; a second one quits at once (the measuring helpers still stop their
//! sides: they are told when parity dies).

use indicatif::ProgressBar;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::Cancel;

/// Watches for the signals on `runtime` and cancels `cancel` on the first; `then` says what
/// happens to finished work, for the message.
pub fn stop_on_signals(
    runtime: &tokio::runtime::Runtime,
    cancel: &Cancel,
    progress: &ProgressBar,
    then: &'static str,
) {
    let (cancel, progress) = (cancel.clone(), progress.clone());
    runtime.spawn(async move {
        let watch = |kind: SignalKind, name: &str| {
            signal(kind)
                .map_err(|e| eprintln!("warning: cannot watch for {name}: {e}"))
                .ok()
        };
        let mut interrupt = watch(SignalKind::interrupt(), "Ctrl-C");
        let mut terminate = watch(SignalKind::terminate(), "SIGTERM");
        let mut hangup = watch(SignalKind::hangup(), "SIGHUP");
        let mut next = async || {
            tokio::select! {
                () = received(&mut interrupt) => "Ctrl-C",
                () = received(&mut terminate) => "SIGTERM",
                () = received(&mut hangup) => "SIGHUP",
            }
        };
        let first = next().await;
        // `suspend`, not `println`: the latter prints nothing when the bar is hidden.
        progress.suspend(|| {
            eprintln!(
                "interrupted ({first}): stopping every run; {then} (press Ctrl-C again to quit at once)"
            );
        });
        cancel.cancel();
        next().await;
        std::process::exit(crate::exit_code::TROUBLE);
    });
}

/// Completes when `signal` arrives; never when it could not be watched.
async fn received(signal: &mut Option<Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
