//! The pull encoder gives the push encoder's bytes for any chunk sizes (property-tested over
//! random registries), fails with `CollectError::Changed` rather than splice two versions of a
//! value, and `encode_async` (feature `async`) writes the same bytes.
// Written against the default features (f64 values, the OpenMetrics writer).
#![cfg(all(feature = "float", feature = "openmetrics"))]

use promstack_core::*;
use proptest::prelude::*;

/// A sample given by a test case: suffix, label pairs, value.
type RawSample = (&'static str, Vec<(String, String)>, Value);

/// A family given by a test case.
#[derive(Debug, Clone)]
struct Fam {
    name: String,
    help: String,
    kind: MetricType,
    samples: Vec<RawSample>,
}

/// A collector reporting its families, made of no members.
#[derive(Debug, Clone)]
struct Custom(Vec<Fam>);

impl Collector for Custom {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        for f in &self.0 {
            let desc = Desc::new(&f.name, &f.help, f.kind);
            sink.family(&desc)?;
            for (suffix, labels, value) in &f.samples {
                let names: Vec<&str> = labels.iter().map(|(n, _)| n.as_str()).collect();
                let values: Vec<&str> = labels.iter().map(|(_, v)| v.as_str()).collect();
                sink.sample(&desc, &Sample::new(suffix, Labels::new(&names, &values), *value))?;
            }
        }
        Ok(())
    }
}

/// A registry of custom collectors and core metrics, listing its members.
struct Reg(Vec<Box<dyn Collector>>);

impl Collector for Reg {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.0.iter().try_for_each(|c| c.collect(sink))
    }
    fn members(
        &self,
        visit: &mut dyn FnMut(&dyn Collector) -> Result<(), CollectError>,
    ) -> Result<bool, CollectError> {
        self.0.iter().try_for_each(|c| visit(&**c))?;
        Ok(true)
    }
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::Int),
        (0u64..1000).prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.5), Just(1e-7)].prop_map(Value::Float),
    ]
}

fn family() -> impl Strategy<Value = Fam> {
    let kinds = prop_oneof![
        Just(MetricType::Gauge),
        Just(MetricType::Counter),
        Just(MetricType::Histogram),
        Just(MetricType::GaugeHistogram),
        Just(MetricType::Summary),
        Just(MetricType::Unknown),
    ];
    let label = ("[a-c][a-z_]{0,3}", "([a-z \\\\\"\n€]{0,12}|[a-z]{20,70})");
    (
        "[a-z][a-z0-9_]{0,12}",
        "[ -~\n\\\\é]{0,20}",
        kinds,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "", "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum",
                ]),
                prop::collection::btree_map(label.0, label.1, 0..4),
                value(),
            ),
            0..6,
        ),
    )
        .prop_map(|(name, help, kind, samples)| Fam {
            name,
            help,
            kind,
            samples: samples.into_iter().map(|(s, l, v)| (s, l.into_iter().collect(), v)).collect(),
        })
}

/// Families as a registry of members, each of 0 to 3 families.
fn registry() -> impl Strategy<Value = Vec<Custom>> {
    prop::collection::vec(prop::collection::vec(family(), 0..3).prop_map(Custom), 0..6)
}

static HIST: Histogram<3> = Histogram::new("pull_hist_seconds", "A core histogram.", [0.5, 1.0, 5.0]);
static COUNTER: Counter = Counter::new("pull_requests", "A core counter.");

fn build(members: Vec<Custom>, with_core: bool) -> Reg {
    let mut all: Vec<Box<dyn Collector>> =
        members.into_iter().map(|c| Box::new(c) as Box<dyn Collector>).collect();
    if with_core {
        all.insert(all.len() / 2, Box::new(&HIST));
        all.push(Box::new(&COUNTER));
    }
    Reg(all)
}

/// What an encoder with a line buffer of `N` bytes writes.
fn push<const N: usize>(c: &dyn Collector, format: Format, created: bool) -> Result<Vec<u8>, String> {
    let mut enc = Encoder::<_, _, N>::with_format(format, Vec::new()).with_created_in_text(created);
    enc.encode(c).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

/// Pulls everything with chunks of the sizes in `sizes` (cycled).
fn pull<F: FormatKind, const N: usize>(
    mut p: PullEncoder<'_, F, N>,
    sizes: &[usize],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 512];
    for (calls, &size) in sizes.iter().cycle().enumerate() {
        let n = p.fill(&mut chunk[..size]).map_err(|e| e.to_string())?;
        if n == 0 {
            assert!(p.is_done());
            return Ok(out);
        }
        assert!(n <= size);
        out.extend_from_slice(&chunk[..n]);
        assert_eq!(p.position(), out.len());
        assert!(calls < 1_000_000, "no end");
    }
    unreachable!()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_chunk_sizes_give_the_push_encoders_bytes(
        members in registry(),
        with_core in any::<bool>(),
        sizes in prop::collection::vec(prop_oneof![1usize..4, 1usize..40, 1usize..512], 1..5),
        created in any::<bool>(),
        observations in prop::collection::vec(0.0f64..10.0, 0..4),
    ) {
        for v in observations {
            HIST.observe(v);
            COUNTER.inc();
        }
        let reg = build(members, with_core);
        for format in [Format::Text, Format::OpenMetrics] {
            let want = push::<256>(&reg, format, created);
            let got = pull(PullEncoder::<_, 256>::with_buffer(&reg, format).with_created_in_text(created), &sizes);
            prop_assert_eq!(&got, &want, "{:?} buffered", format);
            // Unbuffered: what an unbuffered encoder writes (in OpenMetrics, it cannot take
            // back a lone histogram `_count`/`_sum` written out already).
            let want = push::<0>(&reg, format, created);
            let got = pull(PullEncoder::new(&reg, format).with_created_in_text(created), &sizes);
            prop_assert_eq!(&got, &want, "{:?} unbuffered", format);
        }
        let want = push::<256>(&reg, Format::Text, false);
        prop_assert_eq!(pull(PullEncoder::new(&reg, TextFormat), &sizes), want.clone());
        // A collector that is not made of members restarts from its start every time.
        prop_assert_eq!(pull(PullEncoder::new(&Custom(Vec::new()), TextFormat), &sizes), Ok(Vec::new()));
    }
}

/// One family, its value changed between two chunks: the second call fails instead of
/// handing out the rest of a line that no longer follows from the first part.
#[test]
fn a_value_changed_between_chunks_is_an_error() {
    static C: Counter = Counter::new("pull_changed", "Changes between chunks.");
    C.inc_by_int(9);
    let whole = encode_text(Vec::new(), &C).unwrap();
    assert!(whole.ends_with(b"\npull_changed_total 9.0\n"));
    let mut p = PullEncoder::new(&C, TextFormat);
    // Up to the `9`.
    let mut chunk = vec![0u8; whole.len() - 3];
    assert_eq!(p.fill(&mut chunk).unwrap(), chunk.len());
    C.inc(); // 9 -> 10: "...total 1" would follow "...total 9"
    assert_eq!(p.fill(&mut chunk).unwrap_err().to_string(), CollectError::Changed.to_string());
    assert!(matches!(p.fill(&mut chunk), Err(EncodeError::Collect(CollectError::Changed))));
}

/// In a registry, a member already handed out may change: the next chunk restarts at the
/// member in progress and never looks back.
#[test]
fn members_handed_out_may_change() {
    static A: Counter = Counter::new("pull_a", "First.");
    static B: Gauge = Gauge::new("pull_b", "Second.");
    static R: StaticRegistry = StaticRegistry::new(&[&A, &B]);
    let whole = encode_text(Vec::new(), &R).unwrap();
    let first = whole.iter().position(|&c| c == b'\n').unwrap();
    let mut p = PullEncoder::new(&R, TextFormat);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; whole.len() - 10];
    let n = p.fill(&mut chunk).unwrap();
    out.extend_from_slice(&chunk[..n]);
    assert!(n > first);
    A.inc(); // all of A is out
    loop {
        let n = p.fill(&mut chunk[..3]).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(out, whole);
}

#[test]
fn an_empty_buffer_is_an_error_until_the_end() {
    static C: Counter = Counter::new("pull_empty", "Empty buffers.");
    let mut p = PullEncoder::new(&C, Format::Text);
    assert!(matches!(p.fill(&mut []), Err(EncodeError::Collect(CollectError::Failed(_)))));
    let mut chunk = [0u8; 1000];
    let n = p.fill(&mut chunk).unwrap();
    assert_eq!(chunk[..n], encode_text(Vec::new(), &C).unwrap());
    assert_eq!(p.fill(&mut []).unwrap(), 0);
    assert_eq!(p.fill(&mut chunk).unwrap(), 0);
}

#[test]
fn a_collectors_error_is_returned() {
    struct Bad;
    impl Collector for Bad {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            let desc = Desc::new("bad", "Bad.", MetricType::Gauge);
            sink.family(&desc)?;
            sink.sample(&desc, &Sample::new("", Labels::EMPTY, Value::Int(1)))?;
            Err(CollectError::Failed("sensor unplugged"))
        }
    }
    let mut p = PullEncoder::new(&Bad, TextFormat);
    let mut chunk = [0u8; 7];
    let mut out = Vec::new();
    let err = loop {
        match p.fill(&mut chunk) {
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, EncodeError::Collect(CollectError::Failed("sensor unplugged"))), "{err:?}");
    assert!(b"# HELP bad Bad.\n# TYPE bad gauge\nbad 1.0\n".starts_with(&out));
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    /// A socket-like writer that takes at most 5 bytes per write and is not ready every
    /// other time it is polled.
    struct Slow {
        out: Vec<u8>,
        ready: bool,
    }

    impl embedded_io_async::ErrorType for Slow {
        type Error = core::convert::Infallible;
    }

    impl embedded_io_async::Write for Slow {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            core::future::poll_fn(|cx| {
                self.ready = !self.ready;
                if self.ready {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
            let n = buf.len().min(5);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn block_on<F: core::future::Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1_000_000 {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("the future did not finish");
    }

    #[test]
    fn encode_async_writes_the_push_encoders_bytes() {
        static H: Histogram<2> = Histogram::new("pull_async_seconds", "Async.", [0.1, 1.0]);
        H.observe(0.5);
        for size in [1, 7, 64, 4096] {
            let mut chunk = vec![0u8; size];
            let mut w = Slow { out: Vec::new(), ready: false };
            block_on(encoding::encode_text_async(&mut w, &H, &mut chunk)).unwrap();
            assert_eq!(w.out, encode_text(Vec::new(), &H).unwrap());
            let mut w = Slow { out: Vec::new(), ready: false };
            block_on(encoding::encode_async(&mut w, OpenMetricsFormat, &H, &mut chunk)).unwrap();
            assert_eq!(w.out, encode_openmetrics(Vec::new(), &H).unwrap());
        }
    }
}
