//! Code instrumented with the `metrics` facade, served by promstack: the recorder is installed
//! globally, its collector registered in the default registry, and the program scrapes its own
//! `/metrics` once and prints it.
//!
//! `cargo run --example metrics_facade -p promstack --features metrics-recorder`

use promstack::recorder::{Matcher, RecorderBuilder};
use std::io::{Read, Write};

/// Stands for a library that knows nothing of promstack.
fn handle_request(path: &'static str, seconds: f64) {
    metrics::counter!("http_requests_total", "path" => path).increment(1);
    metrics::histogram!("http_request_duration_seconds", "path" => path).record(seconds);
    metrics::gauge!("http_connections").set(3.0);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let collector = RecorderBuilder::new()
        .buckets_for_metric(Matcher::Prefix("http_request_duration".into()), &[0.01, 0.1, 1.0])?
        .install()?;
    let registry = promstack::default_registry();
    registry.register(collector)?;
    metrics::describe_counter!("http_requests_total", "Requests served.");
    metrics::describe_histogram!("http_request_duration_seconds", metrics::Unit::Seconds, "Request latency.");

    for (path, seconds) in [("/", 0.004), ("/", 0.03), ("/login", 0.4)] {
        handle_request(path, seconds);
    }

    let server = promstack::start_http_server("127.0.0.1:0", registry.clone())?;
    let mut conn = std::net::TcpStream::connect(server.local_addr())?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    conn.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    for line in body.lines().filter(|l| l.contains("http_")) {
        println!("{line}");
    }
    server.stop();
    Ok(())
}
