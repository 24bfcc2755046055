//! Ctrl-C for long commands: the first press asks the running job to stop
//! (its cancel token; a render stops within one diffusion step and what is
//! finished is kept), a second press exits at once with status 130.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;

use crate::jobs::CancelToken;

/// The exit status of a command stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT: i32 = 130;

/// Installs the Ctrl-C handler for `token` (once per process). `what` ends
/// the message printed on the first press, e.g. "the finished renders are
/// kept".
pub fn cancel_on_ctrl_c(token: CancelToken, what: &'static str) -> anyhow::Result<()> {
    let presses = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!(
                "\ninterrupted: stopping after the current step; {what} (Ctrl-C again quits now)"
            );
            token.cancel();
        } else {
            eprintln!("\ninterrupted twice: quitting now");
            std::process::exit(INTERRUPTED_EXIT);
        }
    })
    .context("installing the Ctrl-C handler")
}
