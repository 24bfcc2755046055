//! Running one test of the current test binary again as a child process, so
//! that it can get its own environment variables (`Command::env`) or be
//! killed, without touching the parent's process-wide state.
//!
//! The child half is an ordinary `#[test]` that returns at once unless a
//! marker variable (set only by its parent) is there.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The libtest name of `test` in the module `module_path` (pass
/// `module_path!()`): the path without the crate's own name, so the same
/// call works whether the module is a test crate of its own or a module of
/// a larger one.
pub fn test_name(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{test}"),
        None => test.to_string(),
    }
}

/// A command that runs exactly the test `test` of the module `module_path`
/// (pass `module_path!()`) in a new process of this test binary, on one
/// thread, with its output not captured.
pub fn test_command(module_path: &str, test: &str) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        &test_name(module_path, test),
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

/// Runs `cmd` (from [`test_command`]) to its end and checks that exactly
/// one test ran and passed (a wrong name would run none and "pass").
pub fn run_one_test(mut cmd: Command) -> Output {
    let out = cmd.output().expect("run child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child test failed or did not run ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A child's stderr, read to its end on a thread (so the child never
/// writes to a closed pipe), its lines also passed on as they arrive.
pub struct StderrLines {
    rx: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<Vec<String>>,
}

impl StderrLines {
    /// Starts reading `child`'s piped stderr.
    pub fn of(child: &mut std::process::Child) -> Self {
        use std::io::{BufRead, BufReader};
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.expect("stderr line");
                tx.send(line.clone()).ok();
                all.push(line);
            }
            all
        });
        Self { rx, reader }
    }

    /// Waits (at most 120 s between lines, else panics with `what` and the
    /// lines read meanwhile) for a line that contains `needle`.
    pub fn wait_for(&self, needle: &str, what: &str) {
        let mut seen = Vec::new();
        loop {
            match self.rx.recv_timeout(std::time::Duration::from_secs(120)) {
                Ok(line) if line.contains(needle) => return,
                Ok(line) => seen.push(line),
                Err(e) => panic!("{what}: {e}; stderr so far:\n{}", seen.join("\n")),
            }
        }
    }

    /// Every line, once the child has closed its stderr.
    pub fn all(self) -> Vec<String> {
        self.reader.join().expect("stderr reader")
    }
}

/// Sends SIGINT (Ctrl-C) to `child`.
pub fn interrupt(child: &std::process::Child) {
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
}
