//! A labeled family of counters or gauges hands its children to the sink in one call
//! (`Sink::batch`, `BatchSink::samples`), a labeled histogram family its children's lines
//! (`BatchSink::lines`), and the encoders write those rows from templates. These tests encode the same families twice, once directly and once through a sink
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

struct Fixed;
impl promstack_core::Clock for Fixed {
    fn unix_time(&self) -> f64 {
        1_700_000_000.25
    }
}

/// A clock, so that `_created` samples are reported (text 0.0.4 writes them in a separate pass).
fn clock() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| promstack_core::install_clock(&Fixed));
}

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
    clock();
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
fn lines_longer_than_the_encoders_stack_buffer() {
    // Eight 255-byte values under 28-byte names: a line of about 2,300 bytes, longer than the
    // 2,048 bytes a family's lines are written into, so it is written piece by piece; one
    // value needs escaping. Shorter lines of the same family take the in-place path.
    const NAMES: [&str; 8] = [
        "label_name_twenty_eight_hhhh",
        "label_name_twenty_eight_gggg",
        "label_name_twenty_eight_ffff",
        "label_name_twenty_eight_eeee",
        "label_name_twenty_eight_dddd",
        "label_name_twenty_eight_cccc",
        "label_name_twenty_eight_bbbb",
        "label_name_twenty_eight_aaaa",
    ];
    static F: FixedFamily<IntGaugeValue, 8, 4, 255> = FixedFamily::int_gauge("wide_rows", "Wide.", NAMES);
    let long: Vec<String> = (0..8).map(|i| char::from(b'a' + i).to_string().repeat(255)).collect();
    let mut values: Vec<&str> = long.iter().map(String::as_str).collect();
    let escaped = format!("\"{}", "q".repeat(254));
    values[3] = &escaped;
    F.with_label_values(&values).unwrap().set(-42);
    F.get(["1", "2", "3", "4", "5", "6", "7", "8"]).unwrap().set(7);
    let out = same_both_ways(&F);
    let mut want = String::from("wide_rows{");
    for k in (0..8).rev() {
        let v = if k == 3 { format!("\\\"{}", "q".repeat(254)) } else { long[k].clone() };
        want.push_str(&format!("{}=\"{v}\"", NAMES[k]));
        want.push(if k == 0 { '}' } else { ',' });
    }
    want.push_str(" -42.0\n");
    assert!(want.len() > 2048);
    assert!(out.contains(&want), "{out}");
    assert!(out.contains(&format!("wide_rows{{{}=\"8\",", NAMES[7])));
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

/// An encoding's bytes or its error, for the cases where the general path fails (OpenMetrics
/// without a buffer refuses a histogram `_count` with no `_sum`).
fn encoded<const N: usize>(
    c: &dyn Collector,
    om: bool,
    created: bool,
    created_in_text: bool,
) -> Result<String, String> {
    let out = if om {
        let mut enc = Encoder::<_, _, N>::with_format(OpenMetricsFormat, Vec::new()).with_created(created);
        enc.encode(c).and_then(|()| enc.finish())
    } else {
        let mut enc = Encoder::<_, _, N>::with_format(TextFormat, Vec::new())
            .with_created(created)
            .with_created_in_text(created_in_text);
        enc.encode(c).and_then(|()| enc.finish())
    };
    out.map(|b| String::from_utf8(b).unwrap()).map_err(|e| format!("{e:?}"))
}

/// [`same_both_ways`] for collectors whose general path may fail: the same bytes, or the same
/// error, in every format, `_created` setting and buffer size; returns the text 0.0.4 output
/// with `_created` families.
fn same_results_both_ways(c: &dyn Collector) -> Result<String, String> {
    clock();
    let g = General(c);
    for created in [false, true] {
        for in_text in [false, true] {
            assert_eq!(
                encoded::<256>(c, false, created, in_text),
                encoded::<256>(&g, false, created, in_text)
            );
            assert_eq!(encoded::<48>(c, false, created, in_text), encoded::<48>(&g, false, created, in_text));
            assert_eq!(encoded::<0>(c, false, created, in_text), encoded::<0>(&g, false, created, in_text));
        }
        assert_eq!(encoded::<256>(c, true, created, false), encoded::<256>(&g, true, created, false));
        assert_eq!(encoded::<48>(c, true, created, false), encoded::<48>(&g, true, created, false));
        assert_eq!(encoded::<40>(c, true, created, false), encoded::<40>(&g, true, created, false));
        assert_eq!(encoded::<0>(c, true, created, false), encoded::<0>(&g, true, created, false));
    }
    encoded::<256>(c, false, true, true)
}

#[test]
fn histogram_family_lines_are_the_general_paths_bytes() {
    use promstack_core::HistogramValue;
    const B: [f64; 4] = [0.005, 0.25, 1.0, 1e21];
    // `le` sorts after the family's label, between its two labels, and before both.
    static AFTER: FixedFamily<HistogramValue<4>, 1, 8> = FixedFamily::histogram("h", "H.", ["handler"], B);
    static BETWEEN: FixedFamily<HistogramValue<4>, 2, 4> =
        FixedFamily::histogram("between", "B.", ["method", "code"], B);
    static BEFORE: FixedFamily<HistogramValue<4>, 2, 4> =
        FixedFamily::histogram("before", "B.", ["x", "z"], B);
    for (i, path) in
        ["/", "/api/v1/items", "", "say \"hi\"", "C:\\dir", "two\nlines", "é€😀"].iter().enumerate()
    {
        let child = AFTER.get([*path]).unwrap();
        for k in 0..i {
            child.observe(k as f64 * 0.3);
        }
    }
    BETWEEN.get(["GET", "200"]).unwrap().observe(0.1);
    BETWEEN.get(["POST", "5\"00"]).unwrap().observe(2.0);
    BEFORE.get(["1", "2"]).unwrap().observe(f64::NAN);
    let after = same_results_both_ways(&AFTER).unwrap();
    for line in [
        "h_bucket{handler=\"/\",le=\"0.005\"} 0.0\n",
        "h_bucket{handler=\"say \\\"hi\\\"\",le=\"+Inf\"} 3.0\n",
        "h_count{handler=\"two\\nlines\"} 5.0\n",
        "h_sum{handler=\"C:\\\\dir\"} 1.7999999999999998\n",
        "h_bucket{handler=\"é€😀\",le=\"1e+21\"} 6.0\n",
        "# TYPE h_created gauge\n",
        "h_created{handler=\"/api/v1/items\"} 1700000000.25\n",
    ] {
        assert!(after.contains(line), "{line:?} missing from\n{after}");
    }
    let between = same_results_both_ways(&BETWEEN).unwrap();
    assert!(between.contains("between_bucket{code=\"200\",le=\"0.25\",method=\"GET\"} 1.0\n"), "{between}");
    assert!(between.contains("between_sum{code=\"5\\\"00\",method=\"POST\"} 2.0\n"), "{between}");
    let before = same_results_both_ways(&BEFORE).unwrap();
    assert!(before.contains("before_bucket{le=\"+Inf\",x=\"1\",z=\"2\"} 1.0\n"), "{before}");
    assert!(before.contains("before_sum{x=\"1\",z=\"2\"} NaN\n"), "{before}");
}

#[test]
fn histogram_family_edge_cases_are_the_general_paths_bytes() {
    use promstack_core::HistogramValue;
    // A negative first bound: no `_sum`, so OpenMetrics takes the `_count` back (and, without a
    // buffer, fails the same way on both paths).
    static NEG: FixedFamily<HistogramValue<3>, 1, 4> =
        FixedFamily::histogram("neg", "N.", ["k"], [-1.0, 0.0, 1.0]);
    NEG.get(["a"]).unwrap().observe(-5.0);
    NEG.get(["b"]).unwrap().observe(0.5);
    let neg = same_results_both_ways(&NEG).unwrap();
    assert!(neg.contains("neg_count{k=\"b\"} 1.0\n") && !neg.contains("neg_sum"), "{neg}");
    let om = encoded::<256>(&NEG, true, true, false).unwrap();
    assert!(!om.contains("neg_count") && om.contains("neg_created{k=\"a\"}"), "{om}");
    assert!(encoded::<0>(&NEG, true, true, false).is_err());

    // No labels at all: `le` alone, and bare `_count`/`_sum` lines.
    static BARE: FixedFamily<HistogramValue<2>, 0, 1> = FixedFamily::histogram("bare", "B.", [], [1.0, 2.0]);
    BARE.get(()).unwrap().observe(1.5);
    let bare = same_results_both_ways(&BARE).unwrap();
    assert!(
        bare.contains(
            "\nbare_bucket{le=\"2.0\"} 1.0\nbare_bucket{le=\"+Inf\"} 1.0\nbare_count 1.0\nbare_sum 1.5\n"
        ),
        "{bare}"
    );

    // 65 bounds: more than are spelled once per scrape; each child spells its own.
    const WIDE: [f64; 65] = {
        let mut b = [0.0; 65];
        let mut i = 0;
        while i < 65 {
            b[i] = i as f64 * 0.25 - 1.0;
            i += 1;
        }
        b
    };
    static WIDE_FAM: FixedFamily<HistogramValue<65>, 1, 2> = FixedFamily::histogram("w", "W.", ["k"], WIDE);
    WIDE_FAM.get(["v"]).unwrap().observe(3.3);
    WIDE_FAM.get(["a\\b"]).unwrap().observe(30.0);
    let wide = same_results_both_ways(&WIDE_FAM).unwrap();
    assert!(wide.contains("w_bucket{k=\"a\\\\b\",le=\"15.0\"} 0.0\n"), "{wide}");
    assert_eq!(wide.lines().filter(|l| l.starts_with("w_bucket{k=\"v\"")).count(), 66);

    // Counts of two and three digits (not the one-digit shortcut), in buckets and `_count`.
    static MANY: FixedFamily<HistogramValue<2>, 1, 2> =
        FixedFamily::histogram("many", "M.", ["k"], [1.0, 2.0]);
    let (m, n) = (MANY.get(["m"]).unwrap(), MANY.get(["n"]).unwrap());
    for k in 0..45 {
        m.observe(if k < 12 { 0.5 } else { 1.5 });
    }
    (0..123).for_each(|_| n.observe(0.5));
    let many = same_results_both_ways(&MANY).unwrap();
    assert!(
        many.contains("many_bucket{k=\"m\",le=\"1.0\"} 12.0\nmany_bucket{k=\"m\",le=\"2.0\"} 45.0\n"),
        "{many}"
    );
    assert!(many.contains("many_count{k=\"m\"} 45.0\n"), "{many}");
    assert!(many.contains("many_bucket{k=\"n\",le=\"+Inf\"} 123.0\nmany_count{k=\"n\"} 123.0\n"), "{many}");

    // Lines longer than every small buffer, and label names too long for a template.
    const LONG: &str = "a_label_name_that_is_quite_long_for_a_label_name_really_aaaa";
    static LONG_FAM: FixedFamily<HistogramValue<1>, 3, 2, 40> =
        FixedFamily::histogram("long", "L.", [LONG, "lf", "mid"], [0.5]);
    LONG_FAM.get(["0123456789012345678901234567890123456789", "y", "z"]).unwrap().observe(0.1);
    let long = same_results_both_ways(&LONG_FAM).unwrap();
    assert!(long.contains("long_bucket{a_label_name_that_is_quite_long_for_a_label_name_really_aaaa=\"0123456789012345678901234567890123456789\",le=\"0.5\",lf=\"y\",mid=\"z\"}"), "{long}");
}

#[test]
fn int_histogram_family_lines_are_the_general_paths_bytes() {
    use promstack_core::IntHistogramValue;
    static SIZES: FixedFamily<IntHistogramValue<3>, 2, 4> =
        FixedFamily::int_histogram("frame_bytes", "Frames.", ["dir", "port"], [64, 512, 1500]);
    static RSSI: FixedFamily<IntHistogramValue<2>, 1, 4> =
        FixedFamily::int_histogram("rssi_dbm", "Signal.", ["peer"], [-90, -60]);
    SIZES.get(["rx", "eth\"0"]).unwrap().observe(60);
    SIZES.get(["tx", "eth1"]).unwrap().observe(9000);
    RSSI.get(["gw1"]).unwrap().observe(-72);
    let sizes = same_results_both_ways(&SIZES).unwrap();
    assert!(sizes.contains("frame_bytes_bucket{dir=\"rx\",le=\"64.0\",port=\"eth\\\"0\"} 1.0\n"), "{sizes}");
    assert!(sizes.contains("frame_bytes_sum{dir=\"tx\",port=\"eth1\"} 9000.0\n"), "{sizes}");
    let rssi = same_results_both_ways(&RSSI).unwrap();
    assert!(
        rssi.contains("rssi_dbm_bucket{le=\"-60.0\",peer=\"gw1\"} 1.0\n") && !rssi.contains("_sum"),
        "{rssi}"
    );
}

/// Lines from a custom collector through `BatchSink::lines` (runs of one line, then runs of
/// several): unmarked child labels refilled in
/// place, lines with and without labels of their own (a name that sorts first, one that sorts
/// between the child's, one that sorts last), six suffixes (more than the encoder keeps templates
/// for), the same suffix text at two addresses, and, when `bad`, an invalid label name on a line,
/// which both paths refuse.
struct CustomLines {
    bad: bool,
}

type Line = (&'static str, &'static [&'static str], &'static [&'static str], u64);

impl CustomLines {
    fn lines(&self) -> Vec<Line> {
        let bucket: &'static str = String::leak(String::from("_bucket"));
        let mut lines: Vec<Line> = vec![
            ("_bucket", &["le"], &["0.5"], 1),
            ("_bucket", &["le"], &["+Inf"], 2),
            ("_count", &[], &[], 3),
            ("_sum", &[], &[], 4),
            ("_created", &["bb"], &["between"], 5),
            ("_a", &["zz"], &["last"], 6),
            ("_b", &["a0", "zz"], &["first", "q\"uote"], 7),
            (bucket, &["le"], &["1e+21"], 8),
            ("_bucket", &["le"], &["back\\slash"], 9),
            ("_bucket", &["x"], &["other name"], 10),
        ];
        if self.bad {
            lines.push(("_bucket", &["l-e"], &["1"], 11));
        }
        lines
    }
}

/// One child's lines: runs of one line each, then all of them again as runs of consecutive
/// lines with the same suffix and names.
struct CustomChild(Vec<Line>, u64);

impl promstack_core::ChildLines for CustomChild {
    fn each(
        &mut self,
        run: &mut dyn FnMut(&promstack_core::LineRun<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        use promstack_core::{LineRun, Value};
        let samples: Vec<Value> = self.0.iter().map(|l| Value::Int(l.3 * self.1)).collect();
        for (line, sample) in self.0.iter().zip(&samples) {
            run(&LineRun::new(line.0, line.1, line.2, std::slice::from_ref(sample)))?;
        }
        let mut start = 0;
        while start < self.0.len() {
            let (suffix, names) = (self.0[start].0, self.0[start].1);
            let end = (start..self.0.len())
                .find(|&i| self.0[i].0 != suffix || self.0[i].1 != names)
                .unwrap_or(self.0.len());
            let values: Vec<&str> = self.0[start..end].iter().flat_map(|l| l.2.iter().copied()).collect();
            run(&LineRun::try_new(suffix, names, &values, &samples[start..end]).unwrap())?;
            start = end;
        }
        Ok(())
    }
}

const CHILDREN: [([&str; 2], [&str; 2]); 4] = [
    (["b", "c"], ["1", "2"]),
    (["c", "b"], ["x\"y", "3"]),
    (["b", "c"], ["4", "5"]),
    (["a", "b"], ["6", "7"]),
];

impl promstack_core::LineRows for CustomLines {
    fn each(
        &mut self,
        child: &mut dyn FnMut(Labels<'_>, &mut dyn promstack_core::ChildLines) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let mut names = [""; 2];
        let mut values = [""; 2];
        for (i, (n, v)) in CHILDREN.iter().enumerate() {
            names.copy_from_slice(n);
            values.copy_from_slice(v);
            child(Labels::new(&names, &values), &mut CustomChild(self.lines(), i as u64 + 1))?;
        }
        Ok(())
    }
}

impl Collector for CustomLines {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let desc = Desc::new("custom", "Custom lines.", promstack_core::MetricType::Histogram);
        sink.family(&desc)?;
        if let Some(batch) = sink.batch() {
            return batch.lines(&desc, &mut CustomLines { bad: self.bad });
        }
        for (i, (n, v)) in CHILDREN.iter().enumerate() {
            for _ in 0..2 {
                for (suffix, names, values, x) in self.lines() {
                    let labels = Labels::new(n, v).with_extra(names, values);
                    let value = promstack_core::Value::Int(x * (i as u64 + 1));
                    sink.sample(&desc, &Sample::new(suffix, labels, value))?;
                }
            }
        }
        Ok(())
    }
}

#[test]
fn custom_lines_with_names_refilled_in_place() {
    let out = same_results_both_ways(&CustomLines { bad: false }).unwrap();
    for line in [
        "custom_bucket{b=\"1\",c=\"2\",le=\"0.5\"} 1.0\n",
        "custom_created{b=\"3\",bb=\"between\",c=\"x\\\"y\"} 10.0\n",
        "custom_a{b=\"4\",c=\"5\",zz=\"last\"} 18.0\n",
        "custom_b{a=\"6\",a0=\"first\",b=\"7\",zz=\"q\\\"uote\"} 28.0\n",
        "custom_bucket{a=\"6\",b=\"7\",le=\"back\\\\slash\"} 36.0\n",
        "custom_bucket{a=\"6\",b=\"7\",x=\"other name\"} 40.0\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
    let refused = same_results_both_ways(&CustomLines { bad: true }).unwrap_err();
    assert!(refused.contains("l-e"), "{refused}");
}

#[test]
fn line_runs_need_one_value_per_name_and_line() {
    use promstack_core::{LabelError, LineRun, Value};
    let counts = [Value::Int(1), Value::Int(2)];
    assert_eq!(
        LineRun::try_new("_bucket", &["le"], &["1.0"], &counts).unwrap_err(),
        LabelError::WrongCount { expected: 2, got: 1 }
    );
    let run = LineRun::try_new("_bucket", &["le", "x"], &["1.0", "a", "+Inf", "b"], &counts).unwrap();
    assert_eq!(run.values(1), ["+Inf", "b"]);
    assert_eq!(run.labels(0).get("x"), Some("a"));
}

#[test]
fn label_pieces_join_plain_values_in_the_given_order_only() {
    use promstack_core::encoding::LabelPieces;
    let pieces = LabelPieces::new(&["code", "method"]).unwrap();
    assert!(pieces.in_given_order());
    let join = |values: &[&str]| {
        let mut out = vec![0u8; pieces.joined_len(values)?];
        assert!(pieces.join(values, &mut out));
        assert!(pieces.is_joined(&out));
        Some(out)
    };
    assert_eq!(join(&["200", "GET"]).unwrap(), br#"200",method="GET"#);
    assert_eq!(join(&["", ""]).unwrap(), br#"",method=""#);
    assert_eq!(join(&["ü", "\u{1f600}"]).unwrap(), "ü\",method=\"\u{1f600}".as_bytes());
    // Values to escape, a count other than the names', names not sorted: not joined.
    for bad in [&["a\"b", "x"][..], &["a", "b\\"], &["a\nb", "x"], &["x"], &["x", "y", "z"]] {
        assert_eq!(pieces.joined_len(bad), None, "{bad:?}");
        let mut out = vec![0u8; 8];
        assert!(!pieces.join(bad, &mut out));
        assert_eq!(out, [0; 8]);
    }
    let mut short = [0u8; 3];
    assert!(!pieces.join(&["200", "GET"], &mut short));
    let unsorted = LabelPieces::new(&["method", "code"]).unwrap();
    assert!(!unsorted.in_given_order());
    assert_eq!(unsorted.joined_len(&["GET", "200"]), None);
    // What `is_joined` refuses: a piece missing or changed, a value holding a byte to escape.
    for bytes in [
        &br#"200"#[..],
        br#"200",code="GET"#,
        br#"2\0",method="GET"#,
        b"200\",method=\"G\nT",
        br#"200",method="G"T"#,
    ] {
        assert!(!pieces.is_joined(bytes), "{}", String::from_utf8_lossy(bytes));
    }
    let one = LabelPieces::new(&["k"]).unwrap();
    assert!(one.is_joined(b"") && one.is_joined(b"v") && !one.is_joined(b"\""));
    assert_eq!([one.piece(0), one.piece(1)], [&b"{k=\""[..], b"\"}"]);
}
