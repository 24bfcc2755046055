//! An S3-compatible test server on 127.0.0.1: `moto` in server mode, run by
//! the Python in `ADSTUDIO_TEST_MOTO_PYTHON` (`.ci/python-tools.sh` makes
//! that venv), on a free port, killed when the [`Moto`] is dropped. moto
//! accepts any credentials; the tests create buckets and list keys with
//! unsigned requests, and look at (or tamper with) objects through their
//! own object_store client.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;

/// The variable naming the Python that has `moto[server]`.
pub const MOTO_PYTHON_ENV: &str = "ADSTUDIO_TEST_MOTO_PYTHON";

/// Credentials the tests give adstudio (moto accepts any).
pub const ACCESS_KEY: &str = "adstudio-test-key";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "adstudio-test-secret";

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Moto {
    /// Starts moto and waits (up to 30 s) until it accepts connections.
    /// Panics, naming the variable, when `ADSTUDIO_TEST_MOTO_PYTHON` is
    /// unset: a test that needs moto fails rather than passing silently.
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// [`Moto::start`] with extra environment for the server, e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT=N`: after N requests moto checks
    /// credentials (and knows none, so every signed request is refused).
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let python = std::env::var_os(MOTO_PYTHON_ENV).unwrap_or_else(|| {
            panic!("needs moto: set {MOTO_PYTHON_ENV} (eval \"$(.ci/python-tools.sh target/ci-python)\")")
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("moto.log");
        let port = free_port();
        let child = Command::new(&python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("moto log"))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python:?} -m moto.server: {e}"));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        moto.wait_ready(port);
        moto
    }

    fn wait_ready(&mut self, port: u16) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto exited ({status}): {}", self.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto did not listen on {port} within 30 s: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `AWS_*` settings that point adstudio at this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ]
    }

    /// Creates `bucket`.
    pub fn create_bucket(&self, bucket: &str) {
        ureq::put(&format!("{}/{bucket}", self.endpoint))
            .send_empty()
            .unwrap_or_else(|e| panic!("creating bucket {bucket}: {e}"));
    }

    /// A client of `bucket` (moto refuses unsigned object reads).
    fn client(&self, bucket: &str) -> AmazonS3 {
        // reqwest's TLS needs a process provider (see the crate's Cargo.toml).
        // rustls deprecates ring's provider only for its lack of post-quantum
        // key exchange; aws-lc-rs is left out on purpose (a long C build).
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_bucket_name(bucket)
            .build()
            .expect("S3 client")
    }

    /// The object's bytes, or `None` when there is no such object.
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let client = self.client(bucket);
        let path = ObjectPath::from(key);
        let got = block_on(async { client.get(&path).await?.bytes().await });
        match got {
            Ok(bytes) => Some(bytes.to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("reading {bucket}/{key}: {e}"),
        }
    }

    /// Replaces the object's bytes behind adstudio's back.
    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let client = self.client(bucket);
        let path = ObjectPath::from(key);
        block_on(client.put(&path, bytes.to_vec().into()))
            .unwrap_or_else(|e| panic!("writing {bucket}/{key}: {e}"));
    }

    /// The keys under `prefix` in `bucket` (from the ListObjectsV2 XML).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint);
        let xml = ureq::get(&url)
            .call()
            .unwrap_or_else(|e| panic!("listing {bucket}: {e}"))
            .body_mut()
            .read_to_string()
            .expect("listing body");
        let mut keys: Vec<String> = xml
            .split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(k, _)| k.to_string()))
            .collect();
        keys.sort();
        keys
    }
}

/// Runs `future` on a throwaway tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Best effort: the process may have exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
