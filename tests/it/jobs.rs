//! The job runner: order, progress, cancel, failure, panics, a full queue.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adstudio::jobs::{JobEvent, JobId, Steps, Worker, WorkerOptions};

/// How long a test waits for a job event before failing: a deadline for a
/// hang, not a timing requirement (the machine may be busy with other tests).
const HANG_DEADLINE: Duration = Duration::from_secs(120);

/// Collects events until `id` ends (or [`HANG_DEADLINE`] passes).
fn events_until_end<O: Send + 'static, P: Send + 'static>(
    worker: &Worker<Vec<u32>, O, P>,
    id: JobId,
) -> Vec<JobEvent<O, P>> {
    let deadline = Instant::now() + HANG_DEADLINE;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = worker.wait_event(Duration::from_millis(50)) {
            let end = event.id() == id && event.is_terminal();
            events.push(event);
            if end {
                return events;
            }
        }
    }
    panic!("job {id} did not end within {HANG_DEADLINE:?}");
}

#[test]
fn jobs_run_in_submission_order_with_progress() {
    let worker: Worker<Vec<u32>, u32> =
        Worker::spawn(Vec::new(), WorkerOptions::default()).expect("spawn");
    let mut ids = Vec::new();
    for n in 0..5u32 {
        let handle = worker
            .submit(format!("job {n}"), move |log: &mut Vec<u32>, ctx| {
                ctx.progress(0, 2, "start");
                log.push(n);
                ctx.progress(2, 2, "end");
                Ok(log.len() as u32 * 100 + n)
            })
            .expect("submit");
        ids.push(handle.id);
    }
    let events = events_until_end(&worker, ids[4]);
    let done: Vec<(JobId, u32)> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Done { id, output } => Some((*id, *output)),
            _ => None,
        })
        .collect();
    // Each job saw the log with all earlier jobs' entries: strict order.
    let expected: Vec<(JobId, u32)> = ids
        .iter()
        .zip(0u32..)
        .map(|(id, n)| (*id, (n + 1) * 100 + n))
        .collect();
    assert_eq!(done, expected);
    let progress = events
        .iter()
        .filter(|e| {
            matches!(e, JobEvent::Progress { id, progress: Steps { done: 2, total: 2, .. } }
                if *id == ids[0])
        })
        .count();
    assert_eq!(progress, 1);
    // Started comes before Done for every job.
    for id in &ids {
        let started = events
            .iter()
            .position(|e| matches!(e, JobEvent::Started { id: i, .. } if i == id));
        let ended = events.iter().position(|e| e.id() == *id && e.is_terminal());
        assert!(started.expect("started") < ended.expect("ended"));
    }
    assert!(worker.outstanding().is_empty());
}

#[test]
fn cancel_stops_a_running_job_at_its_next_checkpoint() {
    let steps_run = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&steps_run);
    let worker: Worker<Vec<u32>, ()> =
        Worker::spawn(Vec::new(), WorkerOptions::default()).expect("spawn");
    let handle = worker
        .submit("long", move |_, ctx| {
            for step in 0..10_000u64 {
                ctx.checkpoint()?;
                counter.fetch_add(1, Ordering::SeqCst);
                ctx.progress(step + 1, 10_000, "step");
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
        .expect("submit");
    // Wait until the job is clearly running.
    while steps_run.load(Ordering::SeqCst) < 3 {
        std::thread::sleep(Duration::from_millis(2));
    }
    handle.cancel.cancel();
    let at_cancel = steps_run.load(Ordering::SeqCst);
    let events = events_until_end(&worker, handle.id);
    assert!(
        matches!(events.last(), Some(JobEvent::Cancelled { .. })),
        "last event: {:?}",
        events.last().map(|e| e.is_terminal())
    );
    // At most the step that was in flight when cancel came finished after it.
    let after = steps_run.load(Ordering::SeqCst);
    assert!(
        after <= at_cancel + 1,
        "ran {after} steps, cancel came at {at_cancel}"
    );
    assert!(after < 10_000);
}

#[test]
fn cancelled_before_start_never_runs_and_later_jobs_still_run() {
    let ran = Arc::new(AtomicUsize::new(0));
    let worker: Worker<Vec<u32>, u32> =
        Worker::spawn(Vec::new(), WorkerOptions::default()).expect("spawn");
    let blocker = worker
        .submit("blocker", |_, _| {
            std::thread::sleep(Duration::from_millis(100));
            Ok(0)
        })
        .expect("submit");
    let ran_in_job = Arc::clone(&ran);
    let queued = worker
        .submit("queued", move |_, _| {
            ran_in_job.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        })
        .expect("submit");
    queued.cancel.cancel();
    let last = worker.submit("after", |_, _| Ok(2)).expect("submit");
    let events = events_until_end(&worker, last.id);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(events
        .iter()
        .any(|e| matches!(e, JobEvent::Cancelled { id } if *id == queued.id)));
    assert!(events
        .iter()
        .any(|e| matches!(e, JobEvent::Done { id, output: 0 } if *id == blocker.id)));
    assert!(events
        .iter()
        .any(|e| matches!(e, JobEvent::Done { id, output: 2 } if *id == last.id)));
}

#[test]
fn a_failing_job_reports_its_error_with_context_and_the_worker_goes_on() {
    let worker: Worker<Vec<u32>, u32> =
        Worker::spawn(Vec::new(), WorkerOptions::default()).expect("spawn");
    let failing = worker
        .submit("failing", |_, _| {
            let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
            Err(anyhow::Error::from(io).context("reading product.png"))
        })
        .expect("submit");
    let panicking = worker
        .submit("panicking", |_, _| -> anyhow::Result<u32> {
            panic!("index out of range")
        })
        .expect("submit");
    let fine = worker.submit("fine", |_, _| Ok(7)).expect("submit");
    let events = events_until_end(&worker, fine.id);
    let error_of = |job: JobId| {
        events.iter().find_map(|e| match e {
            JobEvent::Failed { id, error } if *id == job => Some(error.clone()),
            _ => None,
        })
    };
    assert_eq!(
        error_of(failing.id).as_deref(),
        Some("reading product.png: no such file")
    );
    let panic_error = error_of(panicking.id).expect("panic reported as failure");
    assert!(panic_error.contains("index out of range"), "{panic_error}");
    assert!(events
        .iter()
        .any(|e| matches!(e, JobEvent::Done { id, output: 7 } if *id == fine.id)));
}

/// A job kind's own progress type: streamed text and images.
#[derive(Debug)]
enum Streamed {
    Token(String),
    Preview(Arc<image::RgbaImage>),
}

#[test]
fn typed_progress_arrives_and_notify_is_called() {
    let notified = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&notified);
    let options = WorkerOptions {
        queue_capacity: 4,
        notify: Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    };
    let worker: Worker<Vec<u32>, (), Streamed> = Worker::spawn(Vec::new(), options).expect("spawn");
    let handle = worker
        .submit("stream", |_, ctx| {
            ctx.report(Streamed::Token("hello".into()));
            ctx.report(Streamed::Token(" world".into()));
            ctx.report(Streamed::Preview(Arc::new(image::RgbaImage::new(4, 4))));
            Ok(())
        })
        .expect("submit");
    let events = events_until_end(&worker, handle.id);
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Progress {
                progress: Streamed::Token(text),
                ..
            } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "hello world");
    assert!(events.iter().any(
        |e| matches!(e, JobEvent::Progress { progress: Streamed::Preview(image), .. }
            if image.width() == 4)
    ));
    // Started + 2 tokens + preview + Done.
    assert!(notified.load(Ordering::SeqCst) >= 5);
}

#[test]
fn a_full_queue_refuses_without_blocking() {
    let options = WorkerOptions {
        queue_capacity: 2,
        ..WorkerOptions::default()
    };
    let worker: Worker<Vec<u32>, ()> = Worker::spawn(Vec::new(), options).expect("spawn");
    let gate = Arc::new(std::sync::Barrier::new(2));
    let job_gate = Arc::clone(&gate);
    let first = worker
        .submit("hold", move |_, _| {
            job_gate.wait();
            Ok(())
        })
        .expect("submit");
    // Wait until the worker has taken the first job off the queue.
    let deadline = Instant::now() + HANG_DEADLINE;
    loop {
        if let Some(JobEvent::Started { .. }) = worker.wait_event(Duration::from_millis(20)) {
            break;
        }
        assert!(Instant::now() < deadline, "first job never started");
    }
    worker.submit("a", |_, _| Ok(())).expect("fits");
    worker.submit("b", |_, _| Ok(())).expect("fits");
    let err = worker.submit("c", |_, _| Ok(())).expect_err("queue full");
    assert!(err.to_string().contains("queue is full"), "{err}");
    gate.wait();
    let _ = events_until_end(&worker, first.id);
}
