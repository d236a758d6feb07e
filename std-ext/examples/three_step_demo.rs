//! The Python client's three-step demo, in Rust: a function timed by a summary, and a server
//! on http://127.0.0.1:8000/metrics exposing it (plus the process and platform metrics).
//!
//! ```text
//! cargo run --example three_step_demo -p promstack            # serves until Ctrl-C
//! cargo run --example three_step_demo -p promstack -- 5       # exits after 5 seconds
//! PROMSTACK_DEMO_SECONDS=5 PROMSTACK_DEMO_ADDR=127.0.0.1:0 cargo run --example three_step_demo -p promstack
//! ```
//! Then `curl http://127.0.0.1:8000/metrics` shows `request_processing_seconds_count` and
//! `request_processing_seconds_sum` growing.

use promstack::{default_registry, start_http_server, ObserveExt, Summary};
use std::time::{Duration, Instant};

// 1. A metric: a summary tracking time spent and requests made.
static REQUEST_TIME: Summary = Summary::new("request_processing_seconds", "Time spent processing request");

// 2. Time a function with it.
fn process_request(t: Duration) {
    REQUEST_TIME.time(|| std::thread::sleep(t));
}

/// A tiny xorshift generator, so the demo needs no dependency for `random.random()`.
fn random(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

fn main() {
    let seconds: Option<f64> = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PROMSTACK_DEMO_SECONDS").ok())
        .map(|s| s.parse().expect("the run time is a number of seconds"));
    let addr = std::env::var("PROMSTACK_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());

    // 3. Expose the metrics: register them and start the server.
    default_registry().register_static(&REQUEST_TIME).expect("a fresh name");
    let server =
        start_http_server(addr.as_str(), default_registry().clone()).expect("bind the metrics address");
    println!("serving metrics on http://{}/metrics", server.local_addr());

    let start = Instant::now();
    let mut state = start.elapsed().as_nanos() as u64 | 1;
    while seconds.is_none_or(|s| start.elapsed().as_secs_f64() < s) {
        // Python sleeps random.random() seconds; a tenth of that keeps the demo lively.
        process_request(Duration::from_secs_f64(random(&mut state) / 10.0));
    }
    println!("processed {} requests, stopping", REQUEST_TIME.value().count());
    server.stop();
}
