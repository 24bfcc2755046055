//! `adstudio batch --queue`, `adstudio worker` and `adstudio jobs` through
//! the binary, on tiny models, with the store and the queue in one real
//! PostgreSQL database (`--store postgres://...`): three workers
//! on a 12-product catalog, one killed with SIGKILL in the middle of a
//! job. Every product finishes exactly once, the killed worker's job is
//! taken again after its lease runs out, no render is lost or made twice,
//! and `batch --queue --wait` writes the winners from the jobs' results.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use adstudio::queue::{JobQueue, JobState};
use adstudio::store::Store;

use crate::common::pg_queue_db::TestDb;
use crate::common::product_images::{cutout, disc, rounded_rect};
use crate::common::tiny_data::{install_models, ROLE_VARS};

/// K 2, N 1, top 2, three steps at 64 px.
const FLAGS: [&str; 12] = [
    "--k",
    "2",
    "--n",
    "1",
    "--top",
    "2",
    "--steps",
    "3",
    "--short-side",
    "64",
    "--max-tokens",
    "12",
];

fn adstudio(data: &Path, store: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adstudio"));
    for var in ROLE_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("ADSTUDIO_DATA_DIR")
        .env("CANDLE_NUM_THREADS", "1")
        .args(["--data-dir"])
        .arg(data)
        .args(["--store", store]);
    cmd
}

/// Tiny models in `root/data`, 12 drawn products and their catalog.
fn setup(root: &Path) -> (PathBuf, PathBuf) {
    let data = root.join("data");
    install_models(&data);
    std::fs::create_dir_all(root.join("img")).unwrap();
    let mut catalog = String::from("id,image,title,category\n");
    for i in 0..12u8 {
        let colour = [40 + i * 17, 200 - i * 11, 90 + i * 7];
        let mask = if i % 2 == 0 {
            disc(80, 80, 40.0, 40.0, 18.0 + f32::from(i))
        } else {
            rounded_rect(80, 80, [12.0, 20.0, 60.0 + f32::from(i), 58.0], 6.0)
        };
        let file = format!("img/p{i}.png");
        cutout(&mask, colour, [0, 255, 0])
            .save(root.join(&file))
            .unwrap();
        catalog.push_str(&format!(
            "p{i},{file},Drawn product number {i} in colour,kitchen\n"
        ));
    }
    let path = root.join("catalog.csv");
    std::fs::write(&path, catalog).unwrap();
    (data, path)
}

/// A worker with its stdout lines sent to a channel.
fn start_worker(data: &Path, store: &str, name: &str) -> (Child, Receiver<String>) {
    let mut child = adstudio(data, store)
        .args([
            "worker",
            "--name",
            name,
            "--lease-secs",
            "3",
            "--poll-secs",
            "0.2",
        ])
        .arg("--exit-when-idle")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for `child` to exit (at most `limit`).
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "a worker did not finish in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Renders per product in the PostgreSQL store at `url`.
fn renders_per_product(url: &str) -> BTreeMap<i64, u64> {
    let store = Store::open_postgres(url).unwrap();
    store
        .product_summaries()
        .unwrap()
        .into_iter()
        .map(|p| (p.product.0, p.renders))
        .collect()
}

#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn three_workers_one_killed_finish_every_product_exactly_once() {
    let db = TestDb::new("workers");
    let tmp = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(tmp.path());
    let out = tmp.path().join("out");
    let (cat, out_s) = (catalog.to_str().unwrap(), out.to_str().unwrap());
    let queue_args = |extra: &[&str]| {
        let mut a = vec!["batch", cat, "--out", out_s];
        a.extend_from_slice(&FLAGS);
        a.push("--queue");
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let queued = adstudio(&data, &db.url)
        .args(queue_args(&[]))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&queued.stdout);
    assert!(
        queued.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&queued.stderr)
    );
    assert!(
        stdout.contains("queued 12 job(s), 0 already queued"),
        "{stdout}"
    );
    let again = adstudio(&data, &db.url)
        .args(queue_args(&[]))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("queued 0 job(s), 12 already queued"));

    let (mut victim, victim_lines) = start_worker(&data, &db.url, "victim");
    // Kill the victim once it is inside its first job.
    let took = victim_lines
        .recv_timeout(Duration::from_secs(240))
        .into_iter()
        .chain(victim_lines.iter())
        .find(|l| l.starts_with("job ") && l.contains("(attempt 1)"))
        .unwrap();
    let killed_job: i64 = took[4..took.find(':').unwrap()].parse().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let mut workers: Vec<(Child, Receiver<String>)> = ["w1", "w2"]
        .iter()
        .map(|n| start_worker(&data, &db.url, n))
        .collect();
    for (child, _) in &mut workers {
        assert!(wait(child, Duration::from_secs(600)).success());
    }

    let mut q = JobQueue::connect(&db.url).unwrap();
    let jobs = q.list(None).unwrap();
    assert_eq!(jobs.len(), 12);
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:#?}");
    let killed = jobs.iter().find(|j| j.id == killed_job).unwrap();
    assert!(
        killed.attempt >= 2,
        "the killed worker's job was taken again"
    );
    assert_ne!(killed.worker.as_deref(), Some("victim"));
    let mut by_product: HashMap<String, usize> = HashMap::new();
    for j in &jobs {
        let id = j.result.as_ref().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        *by_product.entry(id).or_default() += 1;
    }
    assert_eq!(by_product.len(), 12);
    assert!(by_product.values().all(|&n| n == 1));
    // No render lost or made twice: K x N per product, each file there.
    let renders = renders_per_product(&db.url);
    assert_eq!(renders.len(), 12, "{renders:?}");
    assert!(renders.values().all(|&n| n == 2), "{renders:?}");

    let waited = adstudio(&data, &db.url)
        .args(queue_args(&["--wait"]))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&waited.stdout);
    assert!(
        waited.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    assert!(
        stdout.contains("products: 12 finished, 0 failed"),
        "{stdout}"
    );
    let winners = std::fs::read_to_string(out.join("winners.csv")).unwrap();
    assert_eq!(winners.lines().count(), 1 + 12 * 2, "{winners}");
    for i in 0..12 {
        assert!(out.join(format!("p{i}/rank-1.png")).is_file());
    }
    assert!(out.join("index.html").is_file());
}

/// `jobs list | cancel | retry` through the binary.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn jobs_list_cancel_and_retry() {
    let db = TestDb::new("jobs_cli");
    let tmp = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(tmp.path());
    let out = tmp.path().join("out");
    let run = |args: &[&str]| {
        let o = adstudio(&data, &db.url).args(args).output().unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (ok, text) = run(&[
        "batch",
        catalog.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--queue",
        "--priority",
        "4",
    ]);
    assert!(ok, "{text}");
    let (ok, list) = run(&["jobs", "list"]);
    assert!(ok, "{list}");
    assert!(list.contains("12 queued, 0 running, 0 done"), "{list}");
    assert!(list
        .lines()
        .any(|l| l.contains("queued") && l.contains(" 4 ") && l.contains("p3")));
    let (ok, text) = run(&["jobs", "cancel", "1"]);
    assert!(ok && text.contains("job 1 cancelled"), "{text}");
    let (ok, text) = run(&["jobs", "cancel", "1"]);
    assert!(!ok && text.contains("already ended"), "{text}");
    let (ok, text) = run(&["jobs", "retry", "1"]);
    assert!(ok && text.contains("job 1 queued again"), "{text}");
    let (ok, text) = run(&["jobs", "retry", "2"]);
    assert!(!ok && text.contains("not failed or cancelled"), "{text}");
    let (ok, text) = run(&["jobs", "cancel", "999"]);
    assert!(!ok && text.contains("no job 999"), "{text}");
}

/// Without a PostgreSQL store the queue commands say what they need.
#[test]
fn queue_commands_need_a_postgres_store() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["worker", "--exit-when-idle"],
        vec!["jobs", "list"],
        vec!["batch", "c.csv", "--out", "o", "--queue"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_adstudio"))
            .env_remove("ADSTUDIO_STORE")
            .arg("--data-dir")
            .arg(tmp.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains("postgres://"), "{args:?}: {err}");
    }
}

/// A job queued on a machine with other models than the worker's goes
/// back to the queue with both named (no attempt used, nothing rendered);
/// a worker with the job's models then does it.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn a_worker_with_other_models_gives_the_job_back() {
    let db = TestDb::new("othermodels");
    let tmp = tempfile::tempdir().unwrap();
    let (data, catalog) = setup(tmp.path());
    let text = std::fs::read_to_string(&catalog).unwrap();
    let one: Vec<&str> = text.lines().take(2).collect();
    let catalog = tmp.path().join("one.csv");
    std::fs::write(&catalog, one.join("\n") + "\n").unwrap();
    let out = tmp.path().join("out");
    let mut args = vec![
        "batch",
        catalog.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&FLAGS);
    args.push("--queue");
    let queued = adstudio(&data, &db.url).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&queued.stdout);
    assert!(queued.status.success(), "{stdout}");
    assert!(
        stdout.contains("jobs need checkpoint sd15 and ControlNet controlnet-canny"),
        "{stdout}"
    );
    // The same tiny checkpoint under another name: another model as far
    // as the job can tell.
    let other = tmp.path().join("sd15-other");
    crate::common::fixtures::tiny_sd_folder(&other);
    let mut worker = adstudio(&data, &db.url)
        .env("ADSTUDIO_SD15", &other)
        .args(["worker", "--name", "odd", "--poll-secs", "0.2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut q = JobQueue::connect(&db.url).unwrap();
    let start = Instant::now();
    let job = loop {
        let job = q.list(None).unwrap().remove(0);
        if job.error.is_some() {
            break job;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{job:#?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    worker.kill().unwrap();
    worker.wait().unwrap();
    let error = job.error.clone().unwrap();
    assert_eq!(job.state, JobState::Queued, "{job:#?}");
    assert_eq!(job.attempt, 0, "giving back uses no attempt");
    assert!(
        error.contains("worker odd has checkpoint sd15-other")
            && error.contains("the job needs checkpoint sd15 with"),
        "{error}"
    );
    assert!(renders_per_product(&db.url).values().all(|&n| n == 0));
    let good = adstudio(&data, &db.url)
        .args([
            "worker",
            "--name",
            "good",
            "--lease-secs",
            "3",
            "--poll-secs",
            "0.2",
            "--exit-when-idle",
        ])
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let job = q.get(job.id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done, "{job:#?}");
    assert_eq!(job.worker.as_deref(), Some("good"));
    assert!(job.error.is_none());
}

/// `bench queue` through the binary: its worker processes drain every
/// no-op job of each row, the table has a row per worker count, and none
/// of its jobs is left behind; without a PostgreSQL store it says what
/// it needs.
#[test]
#[ignore = "needs PostgreSQL: set ADSTUDIO_TEST_POSTGRES"]
fn bench_queue_drains_its_jobs_with_worker_processes() {
    let db = TestDb::new("benchq");
    let tmp = tempfile::tempdir().unwrap();
    let out = adstudio(tmp.path(), &db.url)
        .args(["bench", "queue", "--jobs", "40", "--workers", "1,3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("40 no-op jobs per row"), "{stdout}");
    for workers in ["| 1 |", "| 3 |"] {
        assert!(stdout.lines().any(|l| l.starts_with(workers)), "{stdout}");
    }
    let mut q = JobQueue::connect(&db.url).unwrap();
    assert!(q.list(None).unwrap().is_empty(), "its jobs are removed");
    let refused = adstudio(
        tmp.path(),
        &tmp.path().join("s.sqlite3").display().to_string(),
    )
    .args(["bench", "queue"])
    .output()
    .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--store postgres://"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
