//! A labeled family of counters or gauges hands its children to the sink in one call
//! (`Sink::batch`, `BatchSink::samples`), and the encoders write those rows from a per-family
//! template. These tests encode the same families twice, once directly and once through a sink
//! that forwards every call except `batch` (so the rows arrive one `Sink::sample` at a time,
//! the general path), and require the same bytes: for both formats, every buffer size, label names in and
//! out of order, values that need escaping next to values that do not, and lines longer than
//! the buffer.
#![cfg(feature = "float")]

use promstack_core::encoding::{OpenMetricsFormat, TextFormat};
use promstack_core::{
    CollectError, Collector, CounterValue, Desc, Encoder, FixedFamily, GaugeValue, IntGaugeValue, Labels,
    Sample, Sink,
};

#[path = "per_row/mod.rs"]
mod per_row;
use per_row::General;

fn text<const N: usize>(c: &dyn Collector, created: bool) -> String {
    let mut enc = Encoder::<_, _, N>::with_format(TextFormat, Vec::new()).with_created_in_text(created);
    enc.encode(c).unwrap();
    String::from_utf8(enc.finish().unwrap()).unwrap()
}

fn openmetrics<const N: usize>(c: &dyn Collector, created: bool) -> String {
    let mut enc = Encoder::<_, _, N>::with_format(OpenMetricsFormat, Vec::new()).with_created(created);
    enc.encode(c).unwrap();
    String::from_utf8(enc.finish().unwrap()).unwrap()
}

/// The same bytes with and without the batch, in every format and buffer size; returns the
/// text 0.0.4 output for the byte-exact checks of the callers.
fn same_both_ways(c: &dyn Collector) -> String {
    let g = General(c);
    for created in [false, true] {
        assert_eq!(text::<256>(c, created), text::<256>(&g, created));
        assert_eq!(text::<48>(c, created), text::<48>(&g, created));
        assert_eq!(text::<0>(c, created), text::<0>(&g, created));
        assert_eq!(openmetrics::<256>(c, created), openmetrics::<256>(&g, created));
        assert_eq!(openmetrics::<40>(c, created), openmetrics::<40>(&g, created));
        assert_eq!(openmetrics::<0>(c, created), openmetrics::<0>(&g, created));
    }
    text::<256>(c, false)
}

#[test]
fn two_labels_in_order() {
    static F: FixedFamily<CounterValue, 2, 8> =
        FixedFamily::counter("http_requests", "Requests.", ["method", "path"]);
    F.get(["GET", "/"]).unwrap().inc();
    F.get(["POST", "/api/v1/items"]).unwrap().inc_by(2.5).unwrap();
    F.get(["PUT", ""]).unwrap();
    let out = same_both_ways(&F);
    // Children come in slot order (by hash), so the rows are compared as a set.
    let mut lines: Vec<&str> = out.lines().collect();
    lines[2..].sort_unstable();
    assert_eq!(
        lines,
        [
            "# HELP http_requests_total Requests.",
            "# TYPE http_requests_total counter",
            "http_requests_total{method=\"GET\",path=\"/\"} 1.0",
            "http_requests_total{method=\"POST\",path=\"/api/v1/items\"} 2.5",
            "http_requests_total{method=\"PUT\",path=\"\"} 0.0",
        ]
    );
}

#[test]
fn names_out_of_order_are_written_sorted() {
    static F: FixedFamily<GaugeValue, 4, 4> =
        FixedFamily::gauge("queue_depth", "Depth.", ["zone", "app", "mid", "b"]);
    F.get(["z1", "a1", "m1", "b1"]).unwrap().set(-1.25);
    F.get(["z2", "a2", "m2", "b2"]).unwrap().set(1e21);
    let out = same_both_ways(&F);
    assert!(out.contains("queue_depth{app=\"a1\",b=\"b1\",mid=\"m1\",zone=\"z1\"} -1.25\n"), "{out}");
    assert!(out.contains("queue_depth{app=\"a2\",b=\"b2\",mid=\"m2\",zone=\"z2\"} 1e21\n"), "{out}");
}

#[test]
fn values_needing_escapes_among_plain_ones() {
    static F: FixedFamily<IntGaugeValue, 1, 8> = FixedFamily::int_gauge("files", "Open files.", ["path"]);
    F.get(["/plain"]).unwrap().set(1);
    F.get(["C:\\dir"]).unwrap().set(-2);
    F.get(["say \"hi\""]).unwrap().set(3);
    F.get(["two\nlines"]).unwrap().set(4);
    F.get(["é€😀"]).unwrap().set(i64::MIN);
    let out = same_both_ways(&F);
    for line in [
        "files{path=\"/plain\"} 1.0\n",
        "files{path=\"C:\\\\dir\"} -2.0\n",
        "files{path=\"say \\\"hi\\\"\"} 3.0\n",
        "files{path=\"two\\nlines\"} 4.0\n",
        "files{path=\"é€😀\"} -9223372036854775808.0\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

#[test]
fn no_labels_and_nine_labels() {
    static NONE: FixedFamily<CounterValue, 0, 1> = FixedFamily::counter("boots", "Boots.", []);
    NONE.get(()).unwrap().inc_by(7.0).unwrap();
    assert!(same_both_ways(&NONE).ends_with("\nboots_total 7.0\n"));
    // More labels than a template holds: the general path, same bytes.
    static NINE: FixedFamily<CounterValue, 9, 2> =
        FixedFamily::counter("wide", "Wide.", ["i", "h", "g", "f", "e", "d", "c", "b", "a"]);
    NINE.get(["9", "8", "7", "6", "5", "4", "3", "2", "1"]).unwrap().inc();
    assert!(same_both_ways(&NINE).ends_with(
        "\nwide_total{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\",h=\"8\",i=\"9\"} 1.0\n"
    ));
}

#[test]
fn lines_longer_than_the_buffer_and_templates_longer_than_their_room() {
    // 60-byte label names: the fixed pieces (~200 bytes) do not fit a template, and every line
    // is longer than the 48- and 40-byte buffers.
    const A: &str = "a_label_name_that_is_quite_long_for_a_label_name_really_aaaa";
    const B: &str = "b_label_name_that_is_quite_long_for_a_label_name_really_bbbb";
    const C: &str = "c_label_name_that_is_quite_long_for_a_label_name_really_cccc";
    static F: FixedFamily<CounterValue, 3, 4, 40> = FixedFamily::counter("long", "Long.", [C, B, A]);
    F.get(["0123456789012345678901234567890123456789", "y", "z"]).unwrap().inc();
    let out = same_both_ways(&F);
    assert!(out.ends_with(&format!(
        "\nlong_total{{{A}=\"z\",{B}=\"y\",{C}=\"0123456789012345678901234567890123456789\"}} 1.0\n"
    )));
}

#[test]
fn many_rows_cross_buffer_boundaries_at_every_offset() {
    static F: FixedFamily<CounterValue, 2, 64> = FixedFamily::counter("rows", "Rows.", ["k", "v"]);
    for i in 0..64u32 {
        let k = "k".repeat(i as usize % 13);
        let v = format!("{}", i * 7919);
        F.get([k.as_str(), v.as_str()]).unwrap().inc_by(f64::from(i) / 4.0).unwrap();
    }
    let out = same_both_ways(&F);
    assert_eq!(out.lines().filter(|l| l.starts_with("rows_total{")).count(), 64);
    // And the labels as a label set: the general path's bytes per row.
    let first = Labels::new(&["k", "v"], &["", "0"]);
    assert_eq!(first.get("v"), Some("0"));
    assert!(out.contains("rows_total{k=\"\",v=\"0\"} 0.0\n"));
}

/// Rows from a custom collector: unmarked labels, so the template compares names by content
/// and scans values. Its name array is refilled in place between rows (same address, other
/// names), some values need escaping, one row has a second group.
struct Custom(Vec<(Vec<&'static str>, Vec<&'static str>, u64)>);

impl promstack_core::SampleRows for Custom {
    fn each(
        &self,
        row: &mut dyn FnMut(Labels<'_>, promstack_core::Value) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let mut names = [""; 3];
        let mut values = [""; 3];
        for (i, (n, v, x)) in self.0.iter().enumerate() {
            names[..n.len()].copy_from_slice(n);
            values[..v.len()].copy_from_slice(v);
            let mut labels = Labels::new(&names[..n.len()], &values[..v.len()]);
            if i == 5 {
                labels = labels.with_extra(&["zz"], &["extra"]);
            }
            row(labels, promstack_core::Value::Int(*x))?;
        }
        Ok(())
    }
}

impl Collector for Custom {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = Desc::new("custom", "Custom rows.", promstack_core::MetricType::Gauge);
        sink.family(&desc)?;
        match sink.batch() {
            Some(batch) => batch.samples(&desc, "", self),
            None => promstack_core::SampleRows::each(self, &mut |labels, value| {
                sink.sample(&desc, &Sample::new("", labels, value))
            }),
        }
    }
}

#[test]
fn custom_rows_with_names_refilled_in_place() {
    let c = Custom(vec![
        (vec!["b", "a"], vec!["1", "2"], 1),
        (vec!["b", "a"], vec!["x\"y", "2"], 2),
        (vec!["a", "b"], vec!["3", "4"], 3),
        (vec!["b", "c"], vec!["5", "6"], 4),
        (vec!["b", "c"], vec!["back\\slash", "7"], 5),
        (vec!["b", "c"], vec!["8", "9"], 6),
        (vec![], vec![], 7),
        (vec!["only"], vec!["1"], 8),
        (vec!["b", "a", "c"], vec!["1", "2", "3"], 9),
    ]);
    let out = same_both_ways(&c);
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(
        rows,
        [
            "custom{a=\"2\",b=\"1\"} 1.0",
            "custom{a=\"2\",b=\"x\\\"y\"} 2.0",
            "custom{a=\"3\",b=\"4\"} 3.0",
            "custom{b=\"5\",c=\"6\"} 4.0",
            "custom{b=\"back\\\\slash\",c=\"7\"} 5.0",
            "custom{b=\"8\",c=\"9\",zz=\"extra\"} 6.0",
            "custom 7.0",
            "custom{only=\"1\"} 8.0",
            "custom{a=\"2\",b=\"1\",c=\"3\"} 9.0",
        ]
    );
}

/// A histogram family formats its bounds once per scrape for all children; an unlabeled
/// histogram formats them as it reports. Same bounds, same observations: the same lines but for
/// the family's label. Bounds that are tiny, huge, negative and integral; 65 bounds is past the
/// once-per-scrape limit (64) and takes the per-child way.
#[test]
fn histogram_family_bounds_are_spelled_as_unlabeled() {
    use promstack_core::{Histogram, HistogramValue};
    const B: [f64; 7] = [-2.5, 1e-7, 0.005, 1.0, 3.0, 1e21, 1.5e300];
    static PLAIN: Histogram<7> = Histogram::new("h", "H.", B);
    static FAM: FixedFamily<HistogramValue<7>, 1, 2> = FixedFamily::histogram("h", "H.", ["a"], B);
    for v in [-3.0, 0.004, 2.0, 1e22, f64::NAN] {
        PLAIN.observe(v);
        FAM.get(["/x"]).unwrap().observe(v);
    }
    let plain = text::<256>(&PLAIN, false);
    let fam = text::<256>(&FAM, false);
    let expected =
        plain.replace("h_bucket{le=", "h_bucket{a=\"/x\",le=").replace("h_count ", "h_count{a=\"/x\"} ");
    assert_eq!(fam, expected);
    assert!(fam.contains("le=\"1e-07\""), "{fam}");

    static WIDE_PLAIN: Histogram<65> = Histogram::new("w", "W.", WIDE);
    static WIDE_FAM: FixedFamily<HistogramValue<65>, 1, 1> = FixedFamily::histogram("w", "W.", ["k"], WIDE);
    const WIDE: [f64; 65] = {
        let mut b = [0.0; 65];
        let mut i = 0;
        while i < 65 {
            b[i] = i as f64 * 0.25;
            i += 1;
        }
        b
    };
    WIDE_PLAIN.observe(3.3);
    WIDE_FAM.get(["v"]).unwrap().observe(3.3);
    let expected = text::<256>(&WIDE_PLAIN, false)
        .replace("w_bucket{le=", "w_bucket{k=\"v\",le=")
        .replace("w_count ", "w_count{k=\"v\"} ")
        .replace("w_sum ", "w_sum{k=\"v\"} ");
    assert_eq!(text::<256>(&WIDE_FAM, false), expected);
}
