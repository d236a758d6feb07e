//! The HTTP server under abuse: hundreds of idle and byte-at-a-time connections must not delay a
//! normal scrape, and thousands of scrapes must not grow memory. Own test binary, so the RSS
//! measurement sees no other test's allocations.

mod http_common;

use http_common::{rss_kib, Conn};
use promstack::{Collector, Counter, Gauge, HttpServer};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

static REQUESTS: Counter = Counter::new("http_requests_total", "Requests served.");
static TEMP: Gauge = Gauge::new("temperature_celsius", "Temperature.");
static ALL: [&dyn Collector; 3] = [&REQUESTS, &TEMP, &PROCESS_LIKE];
static PROCESS_LIKE: Gauge = Gauge::new("queue_depth", "Queue depth.");
/// The two tests run one at a time, so neither disturbs the other's timing or RSS.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn scrape_answers_while_500_slow_connections_are_open() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = HttpServer::new(Arc::new(ALL))
        .header_read_timeout(Duration::from_secs(30))
        .start("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let request = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";

    // 250 connections that say nothing, 250 that send a request one byte at a time.
    let idle: Vec<TcpStream> = (0..250).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut trickle: Vec<TcpStream> = (0..250).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut worst = Duration::ZERO;
    let mut total = Duration::ZERO;
    let rounds = 10;
    for round in 0..rounds {
        // Every trickling connection gets one more byte (never the whole request).
        for s in &mut trickle {
            s.write_all(&request[round..round + 1]).unwrap();
        }
        let t = Instant::now();
        let mut c = Conn::open(addr);
        let r = c.get("/metrics", "");
        let took = t.elapsed();
        assert_eq!(r.status, 200);
        assert!(r.text().contains("temperature_celsius 0.0"));
        worst = worst.max(took);
        total += took;
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "scrape latency with 500 slow connections open: mean {:?}, worst {:?}",
        total / rounds as u32,
        worst
    );
    assert!(worst < Duration::from_secs(1), "a scrape took {worst:?}");
    drop(idle);
    drop(trickle);
    server.stop();
}

#[test]
fn ten_thousand_scrapes_keep_rss_flat() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_) = rss_kib() else { return };
    let server = HttpServer::new(Arc::new(ALL)).start("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    let mut c = Conn::open(addr);
    let scrape = |c: &mut Conn, i: usize| {
        // Alternate formats, compression and filters, and open a new connection now and then.
        let extra = match i % 4 {
            0 => "",
            1 => "Accept: application/openmetrics-text; version=1.0.0\r\n",
            2 => "Accept-Encoding: gzip\r\n",
            _ => "",
        };
        let path = if i % 4 == 3 { "/metrics?name[]=temperature_celsius" } else { "/metrics" };
        let r = c.get(path, extra);
        assert_eq!(r.status, 200);
    };
    for i in 0..1000 {
        scrape(&mut c, i);
    }
    let before = rss_kib().unwrap();
    let t = Instant::now();
    for i in 0..10_000 {
        if i % 500 == 0 {
            c = Conn::open(addr);
        }
        scrape(&mut c, i);
    }
    let elapsed = t.elapsed();
    let after = rss_kib().unwrap();
    eprintln!("10000 scrapes in {elapsed:?} ({:?} each); RSS {before} KiB -> {after} KiB", elapsed / 10_000);
    // Generous: a leak of even 1 KiB per scrape would be 10 MiB.
    assert!(after < before + 4 * 1024, "RSS grew from {before} KiB to {after} KiB");
    server.stop();
}
