//! What a peer can hold on the HTTP server, on real sockets: clients that request a large
//! exposition and never read it (write timeout, in-flight and unsent-bytes limits), a collector
//! slower than the scrape timeout Prometheus sends, and a burst of connects larger than std's
//! listen backlog. Own test binary: the tests open thousands of sockets and hold megabytes.

mod http_common;

use http_common::{get, Conn};
use promstack::{CollectError, Collector, Gauge, HttpServer, Sink};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// About 8 MB of text 0.0.4: more than the kernel buffers of a client that does not read, so
/// the server really holds the rest of the response.
struct Big;

const BIG_REPEATS: usize = 8_000;

fn big_gauge() -> &'static Gauge {
    static G: OnceLock<Gauge> = OnceLock::new();
    G.get_or_init(|| Gauge::new("big_gauge", Box::leak("h".repeat(1000).into_boxed_str())))
}

impl Collector for Big {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        for _ in 0..BIG_REPEATS {
            big_gauge().collect(sink)?;
        }
        Ok(())
    }
}

const REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";

/// A client that sent a scrape and read only its status line.
struct SlowReader {
    stream: TcpStream,
    status: u16,
}

impl SlowReader {
    fn open(addr: SocketAddr) -> SlowReader {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.write_all(REQUEST).unwrap();
        // Reading the status line proves the server handled the request; the rest stays unread.
        let mut line = [0u8; 12];
        stream.read_exact(&mut line).unwrap();
        let line = std::str::from_utf8(&line).unwrap();
        let status = line.strip_prefix("HTTP/1.1 ").unwrap().parse().unwrap();
        SlowReader { stream, status }
    }

    /// Reads what is left, 64 KiB every 50 ms (a steady but slow client), until the server
    /// closes; the number of bytes read.
    fn drain_slowly(mut self) -> usize {
        let mut total = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return total,
                Err(e) => panic!("server neither finished nor closed the connection: {e}"),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn big_len(addr: SocketAddr) -> usize {
    let r = get(addr, "/metrics", "");
    assert_eq!(r.status, 200);
    assert!(r.body.len() > 6_000_000, "exposition of {} bytes", r.body.len());
    r.body.len()
}

/// Retries a scrape until it is answered 200 (the server frees slots asynchronously).
fn eventually_ok(addr: SocketAddr) {
    let mut status = 0;
    for _ in 0..200 {
        status = get(addr, "/metrics", "").status;
        if status == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("still {status} after 10 s: the slots of closed connections were not released");
}

#[test]
fn requests_beyond_the_in_flight_limit_get_503() {
    let server = HttpServer::new(Arc::new(Big)).max_requests_in_flight(4).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    big_len(addr);

    // Four readers that never read fill the in-flight slots ...
    let holders: Vec<SlowReader> = (0..4).map(|_| SlowReader::open(addr)).collect();
    assert!(holders.iter().all(|h| h.status == 200));
    // ... so fifty more are refused at once, without collecting (and they do not read either).
    let refused: Vec<SlowReader> = (0..50).map(|_| SlowReader::open(addr)).collect();
    let statuses: Vec<u16> = refused.iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    // A scrape gets a clear answer at once.
    let r = get(addr, "/metrics", "");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("4 scrapes in flight (limit 4)"), "{}", r.text());

    // Clients that go away give their slots back.
    drop(holders);
    eventually_ok(addr);
    drop(refused);
    server.stop();
}

#[test]
fn the_write_timeout_cuts_off_clients_that_read_too_slowly() {
    let server = HttpServer::new(Arc::new(Big))
        .write_timeout(Duration::from_secs(1))
        .max_requests_in_flight(4)
        .start("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let full = big_len(addr);

    // Reading everything at this pace takes more than 6 s, far beyond the write timeout.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let r = SlowReader::open(addr);
            assert_eq!(r.status, 200);
            std::thread::spawn(move || r.drain_slowly())
        })
        .collect();
    for r in readers {
        let got = r.join().unwrap();
        assert!(got < full, "a slow reader got all {got} bytes: its connection was not cut off");
    }
    // Their slots are free again, and a client that reads gets everything.
    assert_eq!(big_len(addr), full);
    server.stop();
}

#[test]
fn unsent_bytes_are_bounded() {
    let server = HttpServer::new(Arc::new(Big)).max_unsent_bytes(10_000_000).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let full = big_len(addr);
    assert!(full < 10_000_000);

    // The first holds ~8 MB, the second is admitted under the bound and takes it over.
    let first = SlowReader::open(addr);
    let second = SlowReader::open(addr);
    assert_eq!((first.status, second.status), (200, 200));
    let mut c = Conn::open(addr);
    let r = c.get("/metrics", "");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("not yet read by their clients"), "{}", r.text());

    // Clients that go away give their bytes back.
    drop(first);
    drop(second);
    eventually_ok(addr);
    server.stop();
}

/// A collector that blocks until the test opens the gate (or 30 s pass).
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn is_open(&self) -> bool {
        *self.open.lock().unwrap()
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Collector for Gate {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_timeout_while(open, Duration::from_secs(30), |o| !*o).unwrap());
        big_gauge().collect(sink)
    }
}

#[test]
fn scrape_timeout_header_gives_503_and_a_slow_collector_blocks_no_other_connection() {
    let gate = Arc::new(Gate::default());
    let server = HttpServer::new(gate.clone()).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();

    let r = get(addr, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 0.5\r\n");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("longer than the scrape timeout of 500ms"), "{}", r.text());
    // A scrape without the header waits; meanwhile other connections are served.
    let mut waiting = Conn::open(addr);
    waiting.send(REQUEST);
    assert_eq!(get(addr, "/nope", "").status, 404);
    let r = get(addr, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 0.2\r\n");
    assert_eq!(r.status, 503);
    assert!(!gate.is_open(), "answered before the collector was released");

    gate.open();
    let r = waiting.read_response(false).expect("the waiting scrape is answered");
    assert_eq!(r.status, 200);
    // Values that are not a positive number of seconds are ignored.
    for bad in ["abc", "-1", "0", "NaN", "inf", ""] {
        let r = get(addr, "/metrics", &format!("X-Prometheus-Scrape-Timeout-Seconds: {bad}\r\n"));
        assert_eq!(r.status, 200, "{bad}");
    }
    server.stop();
}

#[test]
fn a_burst_of_connects_beyond_std_backlog_completes_while_the_server_is_not_accepting() {
    const BURST: usize = 1_200;
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    if somaxconn.is_some_and(|n| n <= BURST) {
        skip_or_fail(&format!(
            "net.core.somaxconn is {somaxconn:?}, the kernel caps the backlog below {BURST}"
        ));
        return;
    }
    // Each connect is a descriptor of this process, alive until the end.
    let open_files = std::fs::read_to_string("/proc/self/limits").ok().and_then(|l| {
        let line = l.lines().find(|l| l.starts_with("Max open files"))?.to_owned();
        line.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    if open_files.is_some_and(|n| n < BURST + 500) {
        skip_or_fail(&format!("the open files limit is {open_files:?}, too small for {BURST} connections"));
        return;
    }
    static G: Gauge = Gauge::new("burst_gauge", "Gauge.");
    // One connection slot, taken by an idle keep-alive connection: nothing more is accepted,
    // so every connect of the burst must fit in the listen backlog.
    let server = HttpServer::new(Arc::new(&G))
        .max_connections(1)
        .header_read_timeout(Duration::from_secs(120))
        .start("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let mut holder = Conn::open(addr);
    assert_eq!(holder.get("/metrics", "").status, 200);

    let mut burst = Vec::with_capacity(BURST);
    for i in 0..BURST {
        // A connect beyond the backlog is not refused: its SYN is dropped and retried after 1 s,
        // 3 s, ..., and the server still accepts nothing, so this times out.
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect {i} of {BURST} did not complete: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        burst.push(s);
    }
    for s in &mut burst {
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    }
    drop(holder);
    for (i, mut s) in burst.into_iter().enumerate() {
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap_or_else(|e| panic!("connection {i}: {e}"));
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "connection {i}: {answer:?}");
        assert!(answer.ends_with("burst_gauge 0.0\n"), "connection {i}: {answer:?}");
    }
    server.stop();
}

/// Outside CI a test whose precondition the machine lacks says so and passes; in CI (`CI=true`)
/// that is a failure, so a missing capability is never a silent skip.
fn skip_or_fail(why: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true and the machine lacks: {why}");
    eprintln!("skipping: {why}");
}
