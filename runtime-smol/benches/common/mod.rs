//! The RPC load generator the benches share: keep-alive clients each sending one request after
//! another over its own connection (plain or TLS, as the daemon's client opens it), as `wrk -c`
//! does.

use rbtcd::rpc::client::Connector;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// What a load run measured.
pub struct Load {
    /// Requests answered.
    pub requests: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

impl Load {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// `N requests in T s: R req/s, p50 …, p99 …`.
    pub fn summary(&self) -> String {
        format!(
            "{} requests in {:.2} s: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
        )
    }
}

/// Sends `request` and reads one `200` reply (head and `Content-Length` body) from `s`.
fn round_trip(s: &mut (impl Read + Write), request: &[u8], buf: &mut Vec<u8>) {
    s.write_all(request).unwrap();
    s.flush().unwrap();
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end]).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .unwrap();
        // The rest of the body in one read: scanning it for the head again per chunk would
        // make big replies (a verbose block) quadratic.
        let whole = end + 4 + len;
        if buf.len() < whole {
            let have = buf.len();
            buf.resize(whole, 0);
            s.read_exact(&mut buf[have..]).unwrap();
        }
        return;
    }
}

/// Runs `clients` keep-alive connections to `addr`, opened by `connector`, for `run`, each
/// POSTing the JSON-RPC `body` with `authorization` as fast as the replies come back.
pub fn hammer(
    connector: &Connector,
    addr: &str,
    authorization: &str,
    body: &str,
    clients: usize,
    run: Duration,
) -> Load {
    let request = format!(
        "POST / HTTP/1.1\r\nHost: bench\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let begin = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, request) = (addr.to_string(), request.clone());
            let connector = connector.clone();
            std::thread::spawn(move || {
                let mut s = connector.open(&addr, Duration::from_secs(60)).unwrap();
                let mut buf = Vec::new();
                let mut latencies = Vec::new();
                while begin.elapsed() < run {
                    let t = Instant::now();
                    round_trip(&mut s, request.as_bytes(), &mut buf);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = begin.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Load {
        requests: all.len(),
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}
