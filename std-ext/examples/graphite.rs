//! Sending metrics to Graphite every few seconds from a background thread.
//!
//! ```text
//! cargo run --example graphite -p promstack -- 127.0.0.1:2003 10
//! ```
//! Arguments: the carbon plaintext address and how many seconds to run (default 10).

use promstack::{Family, GraphiteBridge, Registry};
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:2003".to_owned());
    let seconds: u64 = std::env::args().nth(2).map(|s| s.parse().expect("seconds")).unwrap_or(10);

    let registry = Arc::new(Registry::new());
    let requests = registry
        .register_owned(Family::counter("requests_total", "Requests.", &["path"]).expect("valid"))
        .expect("fresh name");

    // One push now, then one every 2 s on a fixed schedule; a down server is logged and retried.
    let bridge = GraphiteBridge::new(&address, registry.clone());
    println!("pushing to {address} as myapp.*; first lines:\n{}", bridge.render("myapp").expect("collect"));
    let pusher = bridge.start(Duration::from_secs(2), "myapp");
    for _ in 0..seconds * 10 {
        requests.get(["/index.html"]).expect("one label").inc();
        std::thread::sleep(Duration::from_millis(100));
    }
    pusher.stop();
}
