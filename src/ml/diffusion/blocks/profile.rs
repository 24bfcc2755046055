//! Opt-in per-layer timing of the diffusion models, for
//! `adstudio bench diffusion --profile`.
//!
//! The blocks wrap their sub-steps in [`scope`] with a fixed label (and,
//! for matrix products, the floating-point operations they do). While
//! profiling is off (the default) a scope costs one relaxed atomic load.
//! Candle's CPU ops are synchronous, so the wall time of a scope is the time
//! of the work inside it. A scope opened inside another one (on the same
//! thread) is not recorded: its time counts in the outer scope only, so the
//! totals add up to (at most) the time of the whole call.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
static TOTALS: Mutex<BTreeMap<&'static str, LabelTotal>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// Whether this thread is inside a recorded scope.
    static IN_SCOPE: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`IN_SCOPE`] when the outer scope ends (also on a panic).
struct OuterScope;

impl Drop for OuterScope {
    fn drop(&mut self) {
        IN_SCOPE.with(|inside| inside.set(false));
    }
}

/// Accumulated time of one label.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LabelTotal {
    /// Summed wall time.
    pub elapsed: Duration,
    /// Number of scopes recorded.
    pub calls: u64,
    /// Summed floating-point operations (0 where not counted).
    pub flops: f64,
}

/// Turns recording on or off (off by default).
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Runs `f`, adding its wall time to `label` when profiling is on.
pub fn scope<T>(label: &'static str, f: impl FnOnce() -> T) -> T {
    scope_flops(label, 0.0, f)
}

/// [`scope`] that also adds `flops` floating-point operations to `label`.
pub fn scope_flops<T>(label: &'static str, flops: f64, f: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) || IN_SCOPE.with(|inside| inside.replace(true)) {
        return f();
    }
    let outer = OuterScope;
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    drop(outer);
    let mut totals = TOTALS.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = totals.entry(label).or_default();
    entry.elapsed += elapsed;
    entry.calls += 1;
    entry.flops += flops;
    out
}

/// Returns the totals recorded so far, slowest first, and clears them.
pub fn take() -> Vec<(&'static str, LabelTotal)> {
    let mut totals = TOTALS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut rows: Vec<_> = std::mem::take(&mut *totals).into_iter().collect();
    rows.sort_by_key(|(_, total)| std::cmp::Reverse(total.elapsed));
    rows
}

/// Floating-point operations of a `(m, k) x (k, n)` matrix product.
pub fn matmul_flops(m: usize, k: usize, n: usize) -> f64 {
    2.0 * m as f64 * k as f64 * n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_enabled() {
        // Other tests may run diffusion blocks meanwhile, so only this
        // test's own labels are checked.
        let find = |rows: &[(&'static str, LabelTotal)], label: &str| {
            rows.iter().find(|(l, _)| *l == label).map(|(_, t)| *t)
        };
        scope("profile-test-off", || ());
        assert_eq!(find(&take(), "profile-test-off"), None);
        set_enabled(true);
        let value = scope_flops("profile-test-on", 10.0, || 7);
        scope_flops("profile-test-on", 5.0, || {
            scope("profile-test-nested", || ());
        });
        set_enabled(false);
        assert_eq!(value, 7);
        let rows = take();
        assert_eq!(
            find(&rows, "profile-test-nested"),
            None,
            "counted in the outer scope"
        );
        let on = find(&rows, "profile-test-on").expect("recorded");
        assert_eq!(on.calls, 2);
        assert_eq!(on.flops, 15.0);
        assert_eq!(find(&take(), "profile-test-on"), None, "take clears");
        scope("profile-test-after", || ());
        assert_eq!(find(&take(), "profile-test-after"), None, "off again");
    }
}
