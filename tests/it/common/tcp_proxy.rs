//! A TCP proxy on 127.0.0.1 that a test can cut (every connection closed,
//! new ones refused) and open again on the same port: a database server
//! lost and back, without touching the server.

#![allow(clippy::unwrap_used)]

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running proxy to one target.
pub struct TcpProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Proxies a new port on 127.0.0.1 to `target`.
    pub fn start(target: SocketAddr) -> TcpProxy {
        Self::listen(TcpListener::bind("127.0.0.1:0").unwrap(), target)
    }

    /// Proxies `port` (as after [`cut`](Self::cut)) to `target`.
    pub fn start_on(port: u16, target: SocketAddr) -> TcpProxy {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("rebinding port {port}: {e}"),
            }
        };
        Self::listen(listener, target)
    }

    fn listen(listener: TcpListener, target: SocketAddr) -> TcpProxy {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let (stop2, streams2) = (stop.clone(), streams.clone());
        let accept = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => pipe(client, target, &streams2),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return,
                }
            }
        });
        TcpProxy {
            port,
            stop,
            streams,
            accept: Some(accept),
        }
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Closes every proxied connection and stops listening; returns the
    /// port (to open again with [`start_on`](Self::start_on)).
    pub fn cut(mut self) -> u16 {
        self.shut();
        self.port
    }

    fn shut(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for s in self.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shut();
    }
}

/// Copies both ways between `client` and a new connection to `target`.
fn pipe(client: TcpStream, target: SocketAddr, streams: &Mutex<Vec<TcpStream>>) {
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    client.set_nonblocking(false).unwrap();
    let mut kept = streams.lock().unwrap();
    kept.push(client.try_clone().unwrap());
    kept.push(server.try_clone().unwrap());
    drop(kept);
    for (mut from, mut to) in [
        (client.try_clone().unwrap(), server.try_clone().unwrap()),
        (server, client),
    ] {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

/// `url`'s `host:port` as a socket address (the test server is on
/// 127.0.0.1), and that text.
pub fn server_addr(url: &str) -> (SocketAddr, String) {
    let after_at = url.split_once('@').map_or(url, |(_, rest)| rest);
    let after_scheme = after_at
        .split_once("://")
        .map_or(after_at, |(_, rest)| rest);
    let host_port = after_scheme.split(['/', '?']).next().expect("host");
    let addr = host_port.parse().expect("the test server as IP:port");
    (addr, host_port.to_string())
}

/// A proxy to `url`'s server: the server's address, `url` through the
/// proxy, and the proxy.
pub fn proxied(url: &str) -> (SocketAddr, String, TcpProxy) {
    let (addr, host_port) = server_addr(url);
    let proxy = TcpProxy::start(addr);
    let via = url.replace(&host_port, &format!("127.0.0.1:{}", proxy.port()));
    (addr, via, proxy)
}
