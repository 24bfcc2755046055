//! The worker thread and its submission queue.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::{CancelToken, Cancelled, JobContext, JobEvent, JobId, Steps};

/// A unit of work: runs on the worker thread with the worker's resources.
type JobFn<R, O, P> = Box<dyn FnOnce(&mut R, &JobContext<'_, O, P>) -> anyhow::Result<O> + Send>;

struct Submission<R, O, P> {
    id: JobId,
    label: String,
    cancel: CancelToken,
    run: JobFn<R, O, P>,
}

/// Settings of a [`Worker`].
#[derive(Clone)]
pub struct WorkerOptions {
    /// How many jobs may wait in the queue before `submit` refuses more.
    pub queue_capacity: usize,
    /// Called after every event so the UI wakes up (e.g. `request_repaint`).
    pub notify: Arc<dyn Fn() + Send + Sync>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 64,
            notify: Arc::new(|| {}),
        }
    }
}

/// A submitted job: its id and the token that cancels it.
#[derive(Debug, Clone)]
pub struct JobHandle {
    /// The job's id.
    pub id: JobId,
    /// Cancels the job (before it starts, or at its next checkpoint).
    pub cancel: CancelToken,
}

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The bounded queue is full; try again when jobs have finished.
    #[error("the job queue is full ({capacity} jobs waiting); wait for running jobs to finish")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The worker thread has stopped.
    #[error("the background worker has stopped")]
    Stopped,
}

/// A background worker. It owns resources `R` (store, models) and runs
/// jobs reporting progress `P` and producing outputs `O`, one at a time, in
/// submission order.
pub struct Worker<R, O, P = Steps> {
    queue: Option<Sender<Submission<R, O, P>>>,
    events: Receiver<JobEvent<O, P>>,
    next_id: AtomicU64,
    outstanding: Arc<Mutex<Vec<JobHandle>>>,
    capacity: usize,
    thread: Option<JoinHandle<()>>,
}

impl<R: Send + 'static, O: Send + 'static, P: Send + 'static> Worker<R, O, P> {
    /// Starts the worker thread, which takes ownership of `resources`.
    pub fn spawn(resources: R, options: WorkerOptions) -> std::io::Result<Self> {
        let capacity = options.queue_capacity.max(1);
        let (queue_tx, queue_rx) = crossbeam_channel::bounded::<Submission<R, O, P>>(capacity);
        let (event_tx, event_rx) = crossbeam_channel::unbounded();
        let outstanding: Arc<Mutex<Vec<JobHandle>>> = Arc::default();
        let thread_outstanding = Arc::clone(&outstanding);
        let thread = std::thread::Builder::new()
            .name("adstudio-worker".into())
            .spawn(move || {
                run_loop(
                    resources,
                    &queue_rx,
                    &event_tx,
                    options.notify.as_ref(),
                    &thread_outstanding,
                )
            })?;
        Ok(Self {
            queue: Some(queue_tx),
            events: event_rx,
            next_id: AtomicU64::new(1),
            outstanding,
            capacity,
            thread: Some(thread),
        })
    }

    /// Queues a job. Never blocks: a full queue is an error.
    pub fn submit<F>(&self, label: impl Into<String>, run: F) -> Result<JobHandle, SubmitError>
    where
        F: FnOnce(&mut R, &JobContext<'_, O, P>) -> anyhow::Result<O> + Send + 'static,
    {
        let queue = self.queue.as_ref().ok_or(SubmitError::Stopped)?;
        let id = JobId(self.next_id.fetch_add(1, Ordering::SeqCst));
        let cancel = CancelToken::new();
        let handle = JobHandle {
            id,
            cancel: cancel.clone(),
        };
        lock(&self.outstanding).push(handle.clone());
        let submission = Submission {
            id,
            label: label.into(),
            cancel,
            run: Box::new(run),
        };
        match queue.try_send(submission) {
            Ok(()) => Ok(handle),
            Err(err) => {
                lock(&self.outstanding).retain(|h| h.id != id);
                Err(match err {
                    TrySendError::Full(_) => SubmitError::QueueFull {
                        capacity: self.capacity,
                    },
                    TrySendError::Disconnected(_) => SubmitError::Stopped,
                })
            }
        }
    }

    /// The next event, if one is waiting. Never blocks.
    pub fn try_event(&self) -> Option<JobEvent<O, P>> {
        self.events.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event (for the CLI and tests).
    pub fn wait_event(&self, timeout: std::time::Duration) -> Option<JobEvent<O, P>> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Jobs queued or running.
    pub fn outstanding(&self) -> Vec<JobHandle> {
        lock(&self.outstanding).clone()
    }

    /// Cancels every queued and running job.
    pub fn cancel_all(&self) {
        for handle in lock(&self.outstanding).iter() {
            handle.cancel.cancel();
        }
    }
}

impl<R, O, P> Drop for Worker<R, O, P> {
    fn drop(&mut self) {
        for handle in lock(&self.outstanding).iter() {
            handle.cancel.cancel();
        }
        // Closing the queue ends the loop after the current job's checkpoint.
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the worker thread panicked while shutting down");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A job's panic is caught inside the loop, so poisoning only means a
    // panic while the list itself was held: its contents are still valid.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run_loop<R, O, P>(
    mut resources: R,
    queue: &Receiver<Submission<R, O, P>>,
    events: &Sender<JobEvent<O, P>>,
    notify: &(dyn Fn() + Send + Sync),
    outstanding: &Mutex<Vec<JobHandle>>,
) {
    let send = |event: JobEvent<O, P>| {
        if events.send(event).is_ok() {
            notify();
        }
    };
    for job in queue.iter() {
        let id = job.id;
        let terminal = if job.cancel.is_cancelled() {
            JobEvent::Cancelled { id }
        } else {
            send(JobEvent::Started {
                id,
                label: job.label.clone(),
            });
            let ctx = JobContext {
                id,
                cancel: &job.cancel,
                events,
                notify,
            };
            let run = job.run;
            let result = catch_unwind(AssertUnwindSafe(|| run(&mut resources, &ctx)));
            match result {
                Ok(Ok(output)) => JobEvent::Done { id, output },
                Ok(Err(error)) if error.chain().any(|e| e.is::<Cancelled>()) => {
                    JobEvent::Cancelled { id }
                }
                Ok(Err(error)) => JobEvent::Failed {
                    id,
                    error: format!("{error:#}"),
                },
                Err(panic) => JobEvent::Failed {
                    id,
                    error: format!("internal error: {}", panic_message(panic.as_ref())),
                },
            }
        };
        lock(outstanding).retain(|h| h.id != id);
        send(terminal);
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "the job panicked".to_string()
    }
}
