//! The two HTTP requests of a download, with timeouts: the file's metadata
//! (`Range: bytes=0-0`, as `hf-hub` asks it) and ranged body requests that
//! resume a `.part` file.
//!
//! Why not `hf-hub`'s own transfer: its sync API builds its HTTP agent
//! without any timeout (a hub that accepts and never answers blocks
//! forever), has no way to cancel, and does not check the received size.
//! The URLs, the cache layout, the `.part` resume convention, the
//! environment and the token are `hf-hub`'s.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ureq::http::Response;
use ureq::Agent;

use super::error::FetchError;
use super::settings::HubSettings;

/// What the hub says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The commit the revision resolves to.
    pub commit: String,
    /// The ETag: sha256 for LFS files, the git blob sha1 otherwise.
    pub etag: String,
    /// The size in bytes.
    pub size: u64,
}

/// Why one request failed: no contact at all, or an answer.
#[derive(Debug)]
pub enum RequestError {
    /// The hub could not be reached or did not answer in time.
    Transport(String),
    /// The hub answered with an error.
    Fetch(FetchError),
}

fn agent(settings: &HubSettings, global: Option<Duration>, body: Option<Duration>) -> Agent {
    Agent::config_builder()
        .timeout_connect(Some(settings.connect_timeout))
        .timeout_global(global)
        .timeout_recv_response(Some(settings.metadata_timeout))
        .timeout_recv_body(body)
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn header(resp: &Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_string())
}

fn status_error(url: &str, status: u16, file: &str, repo: &str, revision: &str) -> FetchError {
    match status {
        404 => FetchError::NotInRepo {
            repo: repo.to_string(),
            revision: revision.to_string(),
            file: file.to_string(),
        },
        401 | 403 => FetchError::Unauthorized {
            url: url.to_string(),
            status,
        },
        _ => FetchError::Http {
            url: url.to_string(),
            reason: format!("HTTP {status}"),
        },
    }
}

fn get(
    agent: &Agent,
    settings: &HubSettings,
    url: &str,
    range: &str,
) -> Result<Response<ureq::Body>, RequestError> {
    let mut request = agent.get(url).header("Range", range).header(
        "User-Agent",
        concat!("adstudio/", env!("CARGO_PKG_VERSION")),
    );
    if let Some(token) = &settings.token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request
        .call()
        .map_err(|e| RequestError::Transport(e.to_string()))
}

/// Absolute form of a redirect `location` relative to `url`.
fn join_location(url: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let host_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    format!("{}{location}", &url[..host_end])
}

/// The metadata of `file` at `url`: commit, ETag and size, following the
/// hub's redirects (the first answer carries `X-Repo-Commit` and, for LFS
/// files, `X-Linked-Etag` / `X-Linked-Size`).
pub fn metadata(
    settings: &HubSettings,
    url: &str,
    file: &str,
    repo: &str,
    revision: &str,
) -> Result<FileMeta, RequestError> {
    let agent = agent(settings, Some(settings.metadata_timeout), None);
    let (mut commit, mut etag, mut size) = (None, None, None);
    let mut current = url.to_string();
    for _ in 0..6 {
        let resp = get(&agent, settings, &current, "bytes=0-0")?;
        let status = resp.status().as_u16();
        commit = commit.or_else(|| header(&resp, "x-repo-commit"));
        etag = etag
            .or_else(|| header(&resp, "x-linked-etag"))
            .or_else(|| header(&resp, "etag"));
        size = size.or_else(|| header(&resp, "x-linked-size").and_then(|s| s.parse().ok()));
        if (300..400).contains(&status) {
            let location =
                header(&resp, "location").ok_or_else(|| bad(url, "a redirect without Location"))?;
            if size.is_some() && commit.is_some() && etag.is_some() {
                break;
            }
            current = join_location(&current, &location);
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(RequestError::Fetch(status_error(
                url, status, file, repo, revision,
            )));
        }
        size = size.or_else(|| content_range_total(&resp)).or_else(|| {
            (status == 200)
                .then(|| header(&resp, "content-length").and_then(|s| s.parse().ok()))
                .flatten()
        });
        break;
    }
    Ok(FileMeta {
        commit: commit.ok_or_else(|| bad(url, "no X-Repo-Commit header"))?,
        etag: etag.ok_or_else(|| bad(url, "no ETag header"))?,
        size: size.ok_or_else(|| bad(url, "no file size (Content-Range)"))?,
    })
}

fn bad(url: &str, reason: &str) -> RequestError {
    RequestError::Fetch(FetchError::BadResponse {
        url: url.to_string(),
        reason: reason.to_string(),
    })
}

fn content_range_total(resp: &Response<ureq::Body>) -> Option<u64> {
    header(resp, "content-range")?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

/// The outcome of one ranged request.
#[derive(Debug)]
pub enum ChunkEnd {
    /// The requested range arrived (or the file's end).
    Complete,
    /// The connection ended or timed out early; `progressed` says whether
    /// any byte arrived.
    Interrupted {
        /// Whether the request moved the file on.
        progressed: bool,
        /// What ended it.
        reason: String,
    },
}

/// Asks for bytes `start..end` (end exclusive) of `url`, following
/// redirects, and appends them to `out`, reporting each read to
/// `on_bytes`. A redirect's target (a CDN) gets no token.
#[allow(clippy::too_many_arguments)]
pub fn fetch_range(
    settings: &HubSettings,
    url: &str,
    start: u64,
    end: u64,
    out: &mut dyn Write,
    on_bytes: &mut dyn FnMut(u64),
    cancel: &AtomicBool,
    names: (&str, &str, &str),
) -> Result<ChunkEnd, RequestError> {
    let (file, repo, revision) = names;
    let agent = agent(settings, None, Some(settings.stall_timeout));
    let range = format!("bytes={start}-{}", end - 1);
    let mut current = url.to_string();
    let mut sent_token = settings.clone();
    let resp = loop {
        let resp = get(&agent, &sent_token, &current, &range)?;
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let location =
                header(&resp, "location").ok_or_else(|| bad(url, "a redirect without Location"))?;
            let next = join_location(&current, &location);
            if host_of(&next) != host_of(&current) {
                sent_token.token = None;
            }
            current = next;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(RequestError::Fetch(status_error(
                url, status, file, repo, revision,
            )));
        }
        if status != 206 && start > 0 {
            return Err(bad(
                url,
                "the server ignored the Range header (cannot resume)",
            ));
        }
        break resp;
    };
    let mut reader = resp.into_body().into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut progressed = false;
    loop {
        if cancel.load(Ordering::SeqCst) {
            return Err(RequestError::Fetch(FetchError::Cancelled));
        }
        match reader.read(&mut buf) {
            Ok(0) => return Ok(ChunkEnd::Complete),
            Ok(n) => {
                out.write_all(&buf[..n])
                    .map_err(|e| RequestError::Fetch(FetchError::io(file, e)))?;
                progressed = true;
                on_bytes(n as u64);
            }
            Err(e) => {
                return Ok(ChunkEnd::Interrupted {
                    progressed,
                    reason: e.to_string(),
                })
            }
        }
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_redirects_keep_the_host() {
        assert_eq!(
            join_location("http://127.0.0.1:9/a/resolve/main/x", "/b/resolve/main/x"),
            "http://127.0.0.1:9/b/resolve/main/x"
        );
        assert_eq!(
            join_location("https://hf.co/a", "https://cdn.example/x"),
            "https://cdn.example/x"
        );
        assert_eq!(host_of("https://hf.co/a/b"), "hf.co");
    }
}
