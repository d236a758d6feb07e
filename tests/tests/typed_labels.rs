//! Typed label sets (`LabelSet`, `#[derive(LabelSet)]`, `#[derive(LabelValue)]`) on the three
//! labeled families: core's `FixedFamily`, alloc's `Family` and the multiprocess `Family`. One
//! derived struct with an enum field and an integer field names the same child as the
//! equivalent array, tuple and by-name lookups, and encodes to the same bytes everywhere.

use promstack::multiprocess::{MultiProcessCollector, Opts as MpOpts, Store};
use promstack::{
    encode_text, Collector, CounterValue, Family, FixedFamily, LabelError, LabelNames, LabelSet, LabelValue,
};
use promstack_tests::TempDir;

#[derive(LabelValue, Clone, Copy)]
enum Method {
    Get,
    #[label(rename = "POST")]
    Post,
}

#[derive(LabelSet)]
struct Request {
    method: Method,
    #[label(rename = "code")]
    status: u16,
}

const POST_503: Request = Request { method: Method::Post, status: 503 };

/// The exposition of one child `{method="POST",code="503"}` counted 3 times.
const EXPECTED: &str = "# HELP requests_total Requests.\n\
                        # TYPE requests_total counter\n\
                        requests_total{code=\"503\",method=\"POST\"} 3.0\n";

fn text(c: &dyn Collector) -> String {
    String::from_utf8(encode_text(Vec::new(), c).unwrap()).unwrap()
}

#[test]
fn a_derived_set_declares_and_finds_children_of_a_fixed_family() {
    static REQUESTS: FixedFamily<CounterValue, 2, 4, 8> =
        FixedFamily::counter("requests", "Requests.", Request::NAMES);
    assert_eq!(Request::NAMES, ["method", "code"]);
    // Four ways to name one child.
    REQUESTS.get(POST_503).unwrap().inc();
    REQUESTS.get((Method::Post, 503u16)).unwrap().inc();
    REQUESTS.get(["POST", "503"]).unwrap().inc();
    let by_name = REQUESTS.get_by_name(&[("code", "503"), ("method", "POST")]).unwrap();
    assert_eq!(by_name.get(), 3.0);
    assert_eq!(text(&REQUESTS), EXPECTED);

    let get = Request { method: Method::Get, status: 200 };
    REQUESTS.get(&get).unwrap().inc();
    assert_eq!(REQUESTS.with_label_values(&["Get", "200"]).unwrap().get(), 1.0);
    assert!(REQUESTS.remove(&get));
    assert!(!REQUESTS.remove(["Get", "200"]));
    assert_eq!(text(&REQUESTS), EXPECTED);

    // An integer written longer than V = 8 bytes is refused like any long value.
    assert_eq!(
        REQUESTS.get((Method::Get, 1_000_000_000u32)).err(),
        Some(LabelError::ValueTooLong { index: 1, len: 10, max: 8 })
    );
    assert_eq!(REQUESTS.rejected(), 1);
    assert_eq!(REQUESTS.curry([Method::Post]).get([503u16]).unwrap().get(), 3.0);
}

#[test]
fn a_derived_set_finds_children_of_an_alloc_family() {
    let requests = Family::counter("requests", "Requests.", &Request::NAMES).unwrap();
    requests.get(POST_503).unwrap().inc();
    requests.get((Method::Post, 503u16)).unwrap().inc();
    requests.with_label_values(&["POST", "503"]).unwrap().inc();
    assert!(requests
        .get(&POST_503)
        .unwrap()
        .ptr_eq(&requests.get_by_name(&[("method", "POST"), ("code", "503")]).unwrap()));
    assert_eq!(requests.len(), 1);
    assert_eq!(text(&requests), EXPECTED);

    let get = Request { method: Method::Get, status: 200 };
    requests.get(&get).unwrap().inc();
    assert_eq!(requests.remove(&get), Ok(true));
    assert_eq!(requests.remove_label_values(&["Get", "200"]), Ok(false));
    assert_eq!(text(&requests), EXPECTED);
    // The family's label count is known at run time: a set of another size is an error.
    assert_eq!(requests.get((Method::Get,)).unwrap_err(), LabelError::WrongCount { expected: 2, got: 1 });

    // Curried: the method fixed, the code given per call.
    let post = requests.curry([Method::Post]);
    assert!(post.get([503u16]).unwrap().ptr_eq(&requests.get(POST_503).unwrap()));
    assert_eq!(post.get((503u16, "x")).unwrap_err(), LabelError::WrongCount { expected: 2, got: 3 });
    assert_eq!(
        post.with_label_values(&[""; 16]).unwrap_err(),
        LabelError::WrongCount { expected: 2, got: 17 }
    );
}

#[test]
fn a_derived_set_finds_children_of_a_multiprocess_family() {
    let dir = TempDir::new("typed-labels");
    let store = Store::open_with_identifier(dir.path(), || 7).unwrap();
    let requests = store.counter_family(MpOpts::new("requests", "Requests."), &Request::NAMES).unwrap();
    requests.get(POST_503).unwrap().inc();
    requests.get((Method::Post, 503u16)).unwrap().inc();
    requests.with_label_values(&["POST", "503"]).unwrap().inc();
    assert_eq!(requests.get_by_name(&[("code", "503"), ("method", "POST")]).unwrap().get(), 3.0);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests.get(["POST"]).unwrap_err(), LabelError::WrongCount { expected: 2, got: 1 });
    assert_eq!(requests.curry((Method::Post,)).get([503u16]).unwrap().get(), 3.0);
    // Merged from the files, as a scrape of the parent process sees it (the files keep no help
    // text: Python's merge writes this one).
    let merged = MultiProcessCollector::new(dir.path()).unwrap();
    assert_eq!(text(&merged), EXPECTED.replace("Requests.", "Multiprocess metric"));
}
