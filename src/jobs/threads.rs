//! How many threads model work (candle's matrix products, our rayon
//! kernels) may use in the studio: all cores but one, so that the UI thread
//! always has a core to draw its frames on while a render runs.
//!
//! The count is decided once, at start-up, before any thread pool exists:
//! `RAYON_NUM_THREADS` or `CANDLE_NUM_THREADS`, when set, win; otherwise a
//! machine with more than one core gives model work `cores - 1` threads and
//! a single-core machine gives it its one core. Both variables are then set
//! for the process (candle reads `RAYON_NUM_THREADS` for its matrix
//! products and `CANDLE_NUM_THREADS` for its quantised kernels) and rayon's
//! global pool, where our own kernels run, is built with the same count.

use std::fmt;

/// The variable rayon (and candle's matrix products) read.
pub const RAYON_VAR: &str = "RAYON_NUM_THREADS";
/// The variable candle's quantised kernels read.
pub const CANDLE_VAR: &str = "CANDLE_NUM_THREADS";

/// Where the thread count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadSource {
    /// A variable the user set (its name).
    Environment(&'static str),
    /// All cores but one, the one left for the UI thread.
    ReservedUiCore,
    /// The machine has one core: model work shares it with the UI.
    SingleCore,
}

/// The number of threads model work gets, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeThreads {
    /// Threads for model work.
    pub threads: usize,
    /// Cores of the machine (physical cores, as candle counts them).
    pub cores: usize,
    /// Where `threads` came from.
    pub source: ThreadSource,
}

/// A thread count as the variables spell it: a positive integer.
fn parse_count(value: Option<&str>) -> Option<usize> {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
}

impl ComputeThreads {
    /// The plan for a machine of `cores` cores, given the values of
    /// `RAYON_NUM_THREADS` and `CANDLE_NUM_THREADS` (unset, or not a
    /// positive integer, counts as absent).
    pub fn plan(cores: usize, rayon_var: Option<&str>, candle_var: Option<&str>) -> Self {
        let cores = cores.max(1);
        let (threads, source) = if let Some(n) = parse_count(rayon_var) {
            (n, ThreadSource::Environment(RAYON_VAR))
        } else if let Some(n) = parse_count(candle_var) {
            (n, ThreadSource::Environment(CANDLE_VAR))
        } else if cores > 1 {
            (cores - 1, ThreadSource::ReservedUiCore)
        } else {
            (1, ThreadSource::SingleCore)
        };
        Self {
            threads,
            cores,
            source,
        }
    }
}

impl fmt::Display for ComputeThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (threads, cores) = (self.threads, self.cores);
        let s = if threads == 1 { "" } else { "s" };
        match self.source {
            ThreadSource::Environment(var) => {
                write!(f, "{threads} model thread{s} on {cores} cores (from {var})")
            }
            ThreadSource::ReservedUiCore => write!(
                f,
                "{threads} model thread{s} on {cores} cores (one core left for the UI thread)"
            ),
            ThreadSource::SingleCore => {
                write!(f, "1 model thread on 1 core (shared with the UI thread)")
            }
        }
    }
}

/// Decides the studio's model thread count (see the module docs), exports
/// it through both variables and builds rayon's global pool with it.
///
/// Call it first thing in `main` for the studio (and in `bench ui`),
/// before any other thread is started: it sets environment variables.
pub fn reserve_ui_core() -> ComputeThreads {
    let rayon_var = std::env::var(RAYON_VAR).ok();
    let candle_var = std::env::var(CANDLE_VAR).ok();
    // candle's default: physical cores, honouring the process's CPU mask
    // (it reads RAYON_NUM_THREADS first, so ask before setting it).
    let cores = if parse_count(rayon_var.as_deref()).is_some() {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        candle_core::utils::get_num_threads()
    };
    let plan = ComputeThreads::plan(cores, rayon_var.as_deref(), candle_var.as_deref());
    let count = plan.threads.to_string();
    if parse_count(rayon_var.as_deref()).is_none() {
        std::env::set_var(RAYON_VAR, &count);
    }
    if parse_count(candle_var.as_deref()).is_none() {
        std::env::set_var(CANDLE_VAR, &count);
    }
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.threads)
        .build_global()
    {
        log::warn!("rayon's thread pool was already built: {e}");
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_is_left_for_the_ui_unless_the_user_says_otherwise() {
        let p = ComputeThreads::plan(2, None, None);
        assert_eq!((p.threads, p.source), (1, ThreadSource::ReservedUiCore));
        assert_eq!(ComputeThreads::plan(8, None, None).threads, 7);
        let single = ComputeThreads::plan(1, None, None);
        assert_eq!(
            (single.threads, single.source),
            (1, ThreadSource::SingleCore)
        );
        assert_eq!(ComputeThreads::plan(0, None, None).cores, 1);
    }

    #[test]
    fn the_variables_win_rayon_first_and_bad_values_are_ignored() {
        let p = ComputeThreads::plan(4, Some("4"), Some("2"));
        assert_eq!(p.threads, 4);
        assert_eq!(p.source, ThreadSource::Environment(RAYON_VAR));
        let p = ComputeThreads::plan(4, None, Some(" 2 "));
        assert_eq!(p.threads, 2);
        assert_eq!(p.source, ThreadSource::Environment(CANDLE_VAR));
        for bad in ["0", "-1", "many", ""] {
            let p = ComputeThreads::plan(4, Some(bad), None);
            assert_eq!(p.threads, 3, "{bad:?} is ignored");
        }
    }

    #[test]
    fn the_plan_says_why() {
        let text = ComputeThreads::plan(2, None, None).to_string();
        assert!(text.contains("1 model thread on 2 cores"), "{text}");
        assert!(text.contains("UI thread"), "{text}");
        let text = ComputeThreads::plan(2, None, Some("2")).to_string();
        assert!(text.contains(CANDLE_VAR), "{text}");
    }
}
