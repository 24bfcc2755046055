//! A fake Hugging Face hub on 127.0.0.1 for the download tests: serves
//! `/{owner}/{name}/resolve/{rev}/{file}` with the headers the hub sends
//! (`ETag`, `X-Repo-Commit`, `Content-Range`), honours `Range`, records
//! every request, and can misbehave on purpose (drop a transfer half-way
//! once, announce a wrong ETag, or accept connections and never answer).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The commit every file is served at.
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// The request path.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: HashMap<String, String>,
}

/// What the server serves and how.
#[derive(Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    etags: HashMap<String, String>,
    drop_once_after: HashMap<String, usize>,
    seen: Vec<SeenRequest>,
    slow: bool,
}

/// A running fake hub.
pub struct HubServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

/// sha256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Deterministic bytes that look like weights.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64 * 2_654_435_761 + seed as u64) >> 7) as u8)
        .collect()
}

impl HubServer {
    /// Starts a server; it runs until the test process ends.
    pub fn start() -> HubServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        HubServer { endpoint, state }
    }

    /// Serves `data` as `repo`'s `file` (ETag: its sha256, as for LFS).
    pub fn add(&self, repo: &str, file: &str, data: Vec<u8>) {
        let mut s = self.state.lock().expect("state");
        let key = format!("{repo}/{file}");
        s.etags.insert(key.clone(), sha256_hex(&data));
        s.files.insert(key, data);
    }

    /// Announces `etag` for the file instead of its real sha256.
    pub fn set_etag(&self, repo: &str, file: &str, etag: &str) {
        let mut s = self.state.lock().expect("state");
        s.etags.insert(format!("{repo}/{file}"), etag.to_string());
    }

    /// The first body transfer of the file stops after `bytes` bytes (the
    /// connection closes although more was announced).
    pub fn drop_once_after(&self, repo: &str, file: &str, bytes: usize) {
        let mut s = self.state.lock().expect("state");
        s.drop_once_after.insert(format!("{repo}/{file}"), bytes);
    }

    /// Sends bodies in 2 KiB pieces 250 ms apart (a slow link: 8 KB/s, so a
    /// 400 KB file takes 50 s: a loaded machine still cancels it midway).
    pub fn set_slow(&self, slow: bool) {
        self.state.lock().expect("state").slow = slow;
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.state.lock().expect("state").seen.clone()
    }
}

/// A server that accepts connections and never answers; returns its
/// endpoint.
pub fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    endpoint
}

/// An endpoint on a 127.0.0.1 port where nothing listens.
pub fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    endpoint
}

fn read_request(stream: &TcpStream) -> Option<SeenRequest> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Some(SeenRequest { path, headers })
}

/// `bytes=a-b` or `bytes=a-` within `len`: (start, end inclusive).
fn parse_range(value: Option<&String>, len: usize) -> (usize, usize) {
    let spec = value.and_then(|v| v.strip_prefix("bytes=")).unwrap_or("0-");
    let (a, b) = spec.split_once('-').unwrap_or(("0", ""));
    let start = a.parse().unwrap_or(0);
    let end = b
        .parse()
        .unwrap_or(len.saturating_sub(1))
        .min(len.saturating_sub(1));
    (start, end)
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(req) = read_request(&stream) else {
        return;
    };
    let key = req
        .path
        .trim_start_matches('/')
        .replacen("/resolve/main/", "/", 1);
    let (data, etag, drop_after, slow) = {
        let mut s = state.lock().expect("state");
        s.seen.push(req.clone());
        let data = s.files.get(&key).cloned();
        let etag = s.etags.get(&key).cloned().unwrap_or_default();
        let ranged_body = req.headers.get("range").is_some_and(|r| r != "bytes=0-0");
        let drop_after = if ranged_body {
            s.drop_once_after.remove(&key)
        } else {
            None
        };
        (data, etag, drop_after, s.slow)
    };
    let Some(data) = data else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX-Error-Code: EntryNotFound\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    let (start, end) = parse_range(req.headers.get("range"), data.len());
    let body = &data[start..=end];
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{}\r\n\
         ETag: \"{etag}\"\r\nX-Repo-Commit: {COMMIT}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        body.len(),
        data.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let sent = drop_after.map_or(body.len(), |n| n.min(body.len()));
    if slow {
        for piece in body[..sent].chunks(2048) {
            if stream.write_all(piece).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    } else {
        let _ = stream.write_all(&body[..sent]);
    }
    let _ = stream.flush();
    if drop_after.is_some() {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}
