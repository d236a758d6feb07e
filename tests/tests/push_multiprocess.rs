//! Pushing is refused in multiprocess mode (Python 0.8.0 documents it as unsupported): the
//! error says why, and no request leaves the process. Its own test binary, because it sets the
//! multiprocess environment variable for the whole process.

use promstack::multiprocess::{Feature, MultiProcessError};
use promstack::push::{PushError, PushRequest, Pusher};
use promstack::Counter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static JOBS: Counter = Counter::new("jobs_done", "Jobs done.");

#[test]
fn push_and_pushadd_are_refused_in_multiprocess_mode_but_delete_is_not() {
    let dir = promstack_tests::TempDir::new("push-mp");
    std::env::set_var("prometheus_multiproc_dir", dir.path());
    let sent = Arc::new(AtomicUsize::new(0));
    let seen = sent.clone();
    let pusher = Pusher::new("127.0.0.1:9", "batch").handler(move |_req: PushRequest<'_>| {
        seen.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    for result in [pusher.push(&JOBS), pusher.pushadd(&JOBS)] {
        match result {
            Err(PushError::MultiProcess(MultiProcessError::Unsupported(Feature::Pushgateway))) => {}
            other => panic!("expected a multiprocess refusal, got {other:?}"),
        }
    }
    assert_eq!(sent.load(Ordering::Relaxed), 0, "nothing may be sent");
    let msg = pusher.push(&JOBS).unwrap_err().to_string();
    assert!(msg.starts_with("cannot push: "), "{msg}");
    // DELETE carries no values, so it is allowed.
    pusher.delete().unwrap();
    assert_eq!(sent.load(Ordering::Relaxed), 1);
    std::env::remove_var("prometheus_multiproc_dir");
    pusher.push(&JOBS).unwrap();
}
