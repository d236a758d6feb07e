//! Times scrapes (merge + text encode) of a multiprocess directory, in wall-clock and CPU time,
//! for comparison with `std-ext/benches/multiprocess_python.py` on the same files. CPU time
//! matters on a busy machine, where wall-clock time mostly measures waiting for a core.
//!
//! `cargo run --release -p promstack --example mp_scrape_time -- DIR [RUNS]`

use promstack::multiprocess::MultiProcessCollector;
use std::time::{Duration, Instant};

#[cfg(unix)]
fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(unix))]
fn cpu_time() -> Duration {
    Duration::ZERO
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: mp_scrape_time DIR [RUNS]");
    let runs: usize = args.next().map_or(20, |r| r.parse().expect("RUNS is a number"));
    let collector = MultiProcessCollector::new(&dir).expect("a multiprocess directory");
    let files = collector.files().expect("list the directory").len();
    let mut bytes = 0;
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for i in 0..=runs {
        let (w, c) = (Instant::now(), cpu_time());
        let text = promstack::encode_text(Vec::with_capacity(1 << 20), &collector).expect("encode");
        let (w, c) = (w.elapsed(), cpu_time() - c);
        bytes = text.len();
        // The first run warms the page cache and the allocator.
        if i > 0 {
            wall.push(w);
            cpu.push(c);
        }
    }
    println!(
        "promstack: {files} files, {bytes} bytes of text, merge + encode median {:.0} us wall, {:.0} us cpu",
        median(wall).as_secs_f64() * 1e6,
        median(cpu).as_secs_f64() * 1e6
    );
}
