//! An HTTP metrics server with the 10k-series workload, for `wrk` to scrape.
//!
//! `scrape LIB SECONDS` serves 10 labeled counters x 1000 children on a free 127.0.0.1 port,
//! prints `port=N` once it accepts connections, and exits by itself after SECONDS (so a
//! benchmark that dies never leaves a server behind). LIB: `promstack` (std-ext's
//! `start_http_server` over core's fixed-capacity families), `promstack_alloc` (the same server
//! over promstack-alloc's `Registry` of dynamic families) or `metrics` (metrics-exporter-
//! prometheus' HTTP listener). All serve from one thread.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../common/peers.rs"]
mod peers;

fn main() {
    let mut args = std::env::args().skip(1);
    let lib = args.next().unwrap_or_else(|| "promstack".into());
    let secs: u64 = args.next().map(|s| s.parse().expect("SECONDS")).unwrap_or(30);
    let addr: SocketAddr = match lib.as_str() {
        "promstack" => {
            let fams = promstack_bench::fixed_encode_families();
            let server = promstack::start_http_server("127.0.0.1:0", Arc::new(fams)).expect("bind");
            let addr = server.local_addr();
            // Detached: the process exit below ends it.
            std::mem::forget(server);
            addr
        }
        "promstack_alloc" => {
            let reg = promstack_bench::alloc_encode_registry();
            let server = promstack::start_http_server("127.0.0.1:0", Arc::new(reg)).expect("bind");
            let addr = server.local_addr();
            std::mem::forget(server);
            addr
        }
        "metrics" => {
            // The listener cannot report the port it bound, so take a free one first.
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .with_http_listener(addr)
                .install()
                .expect("install");
            peers::metrics_register_encode_series();
            addr
        }
        other => {
            eprintln!("unknown library {other}: promstack, promstack_alloc, metrics");
            std::process::exit(2);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("port={}", addr.port());
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(secs));
}
