//! The studio's Queue window, under egui_kittest: with an SQLite store it
//! says the queue needs a shared PostgreSQL store; with one it lists the
//! team's jobs (read on the studio worker, refreshed while open), and its
//! Cancel and Retry buttons change them in the queue.

#![allow(clippy::unwrap_used)]

use adstudio::app::{StudioApp, StudioConfig};
use adstudio::paths::DataDir;
use adstudio::queue::{JobQueue, JobState, NewJob};
use adstudio::store::StoreLocation;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use serde_json::json;

use crate::common::pg_queue_db::TestDb;
use crate::common::studio::{step_until, studio};

fn open_queue(harness: &mut Harness<'static, StudioApp>) {
    harness.get_by_label("Queue").click();
    step_until(harness, "the queue read", |app| {
        app.queue().open && (app.queue().snapshot.is_some() || app.queue().error.is_some())
    });
}

#[test]
fn with_an_sqlite_store_the_window_says_what_the_queue_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut harness = studio(tmp.path(), egui::vec2(1200.0, 800.0));
    step_until(&mut harness, "start-up", |_| true);
    open_queue(&mut harness);
    let error = harness.state().queue().error.clone().unwrap();
    assert!(error.contains("shared PostgreSQL store"), "{error}");
    assert!(harness.state().queue().snapshot.is_none());
    assert_eq!(
        harness
            .query_all_by_label_contains("the job queue lives in a shared PostgreSQL store")
            .count(),
        1
    );
    // No queue to watch: read once, not every few seconds.
    for _ in 0..30 {
        harness.step();
    }
    assert!(harness.state().queue().job.is_none());
}

#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn the_queue_window_lists_cancels_and_retries_jobs() {
    let db = TestDb::new("ui_queue");
    let mut q = JobQueue::connect(&db.url).unwrap();
    for (n, title) in [(1, "Walnut desk"), (2, "Linen shirt")] {
        q.enqueue(&NewJob {
            kind: "batch-product".into(),
            key: Some(format!("k{n}")),
            payload: json!({"row": {"id": format!("p{n}"), "title": title}}),
            priority: n,
            max_attempts: 3,
        })
        .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = StudioConfig {
        data_dir: DataDir::at(tmp.path())
            .unwrap()
            .with_store(Some(StoreLocation::Postgres(db.url.clone()))),
        open_path: None,
        reopen_last: false,
        first_run_manager: false,
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| StudioApp::new(cc, config).expect("studio starts"));
    step_until(&mut harness, "start-up", |_| true);
    open_queue(&mut harness);
    let snapshot = harness.state().queue().snapshot.clone().unwrap();
    assert_eq!(snapshot.counts.queued, 2);
    // Higher priority first.
    assert_eq!(snapshot.jobs[0].what, "p2 · Linen shirt");
    harness.get_by_label("p1 · Walnut desk");
    harness.get_by_label("2 queued · 0 running · 0 done · 0 failed · 0 cancelled");
    let first = snapshot.jobs[0].id;
    harness.get_by_label(&format!("Cancel #{first}")).click();
    step_until(
        &mut harness,
        "the job cancelled and the queue read again",
        |app| {
            app.queue()
                .snapshot
                .as_ref()
                .is_some_and(|s| s.counts.cancelled == 1)
        },
    );
    assert_eq!(q.get(first).unwrap().unwrap().state, JobState::Cancelled);
    harness.get_by_label(&format!("Job {first} cancelled"));
    harness.get_by_label(&format!("Retry #{first}")).click();
    step_until(&mut harness, "the job queued again", |app| {
        app.queue()
            .snapshot
            .as_ref()
            .is_some_and(|s| s.counts.queued == 2)
    });
    assert_eq!(q.get(first).unwrap().unwrap().state, JobState::Queued);
    // A job queued elsewhere shows up without a click (refresh every 5 s).
    q.enqueue(&NewJob {
        kind: "batch-product".into(),
        key: Some("k3".into()),
        payload: json!({"row": {"id": "p3", "title": "Clay mug"}}),
        priority: 0,
        max_attempts: 3,
    })
    .unwrap();
    let start = std::time::Instant::now();
    while harness.query_by_label("p3 · Clay mug").is_none() {
        assert!(start.elapsed().as_secs() < 60, "the window never refreshed");
        harness.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
