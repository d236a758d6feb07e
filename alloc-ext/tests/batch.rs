//! promstack-alloc's `Family` hands counters' and gauges' children to the encoder in one call
//! (`Sink::batch`), histograms' children in another (`BatchSink::lines`). Its labels are not marked by core, so the encoder's template compares the
//! names and scans the values of every row. The bytes must be those of the general path, one
//! `Sink::sample` per child (a sink that forwards everything but `batch` gives that path).

use promstack_alloc::Family;
use promstack_core::encoding::{OpenMetricsFormat, TextFormat};
use promstack_core::{Collector, CounterValue, Encoder, GaugeValue};

#[path = "../../core/tests/per_row/mod.rs"]
mod per_row;
use per_row::General;

fn both<const N: usize>(c: &dyn Collector) -> String {
    let enc = |c: &dyn Collector, om: bool| {
        if om {
            let mut e = Encoder::<_, _, N>::with_format(OpenMetricsFormat, Vec::new()).with_created(false);
            e.encode(c).unwrap();
            e.finish().unwrap()
        } else {
            let mut e = Encoder::<_, _, N>::with_format(TextFormat, Vec::new());
            e.encode(c).unwrap();
            e.finish().unwrap()
        }
    };
    for om in [false, true] {
        assert_eq!(enc(c, om), enc(&General(c), om), "om={om} N={N}");
    }
    String::from_utf8(enc(c, false)).unwrap()
}

#[test]
fn dynamic_family_rows_are_the_general_paths_bytes() {
    let f = Family::<CounterValue>::counter("jobs", "Jobs.", &["queue", "kind"]).unwrap();
    f.with_label_values(&["fast", "a"]).unwrap().inc();
    f.with_label_values(&["q\"uoted", "b"]).unwrap().inc_by(1.5).unwrap();
    f.with_label_values(&["line\nbreak", "c"]).unwrap();
    f.with_label_values(&["slow", "d"]).unwrap().inc_by(3.0).unwrap();
    let out = both::<256>(&f);
    both::<40>(&f);
    both::<0>(&f);
    // Creation order, names sorted, escaped where needed.
    assert_eq!(
        out.lines().skip(2).collect::<Vec<_>>(),
        [
            "jobs_total{kind=\"a\",queue=\"fast\"} 1.0",
            "jobs_total{kind=\"b\",queue=\"q\\\"uoted\"} 1.5",
            "jobs_total{kind=\"c\",queue=\"line\\nbreak\"} 0.0",
            "jobs_total{kind=\"d\",queue=\"slow\"} 3.0",
        ]
    );
    let g = Family::<GaugeValue>::gauge("temp", "T.", &[]).unwrap();
    g.with_label_values(&[]).unwrap().set(-0.5);
    assert!(both::<256>(&g).ends_with("\ntemp -0.5\n"));
}

#[test]
fn dynamic_histogram_family_lines_are_the_general_paths_bytes() {
    // Histogram families go through `BatchSink::lines`: the child's labels, unmarked here, are
    // checked and escaped once per suffix, and `le` is sorted in among them.
    let f = Family::histogram("wait_seconds", "Wait.", &["queue", "a_kind"], [0.5, 2.0]).unwrap();
    f.with_label_values(&["fast", "x"]).unwrap().observe(0.1);
    f.with_label_values(&["q\"uoted", "y"]).unwrap().observe(3.0);
    f.with_label_values(&["line\nbreak", "z"]).unwrap();
    let out = both::<256>(&f);
    both::<40>(&f);
    both::<0>(&f);
    let lines: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(lines.len(), 3 * 5);
    assert_eq!(lines[0], "wait_seconds_bucket{a_kind=\"x\",le=\"0.5\",queue=\"fast\"} 1.0");
    assert_eq!(lines[7], "wait_seconds_bucket{a_kind=\"y\",le=\"+Inf\",queue=\"q\\\"uoted\"} 1.0");
    assert_eq!(lines[9], "wait_seconds_sum{a_kind=\"y\",queue=\"q\\\"uoted\"} 3.0");
    assert_eq!(lines[12], "wait_seconds_bucket{a_kind=\"z\",le=\"+Inf\",queue=\"line\\nbreak\"} 0.0");
}

#[test]
fn dynamic_rows_written_in_place_and_their_fallbacks_are_the_general_paths_bytes() {
    // Two labels: written in place through `LineBuf::line`, integer and float values, a value
    // to escape, and a line over 2 KiB (written piece by piece).
    let f = Family::<GaugeValue>::gauge("depth", "D.", &["zone", "app"]).unwrap();
    f.with_label_values(&["z1", "a"]).unwrap().set(7.0);
    f.with_label_values(&["z2", "b"]).unwrap().set(-12345.0);
    f.with_label_values(&["z3", "c"]).unwrap().set(0.25);
    f.with_label_values(&["z4", "back\\slash"]).unwrap().set(1e300);
    let long = "v".repeat(2100);
    f.with_label_values(&[long.as_str(), "d"]).unwrap().set(18_446_744.0);
    let out = both::<256>(&f);
    both::<2048>(&f);
    both::<0>(&f);
    assert_eq!(
        out.lines().skip(2).take(4).collect::<Vec<_>>(),
        [
            "depth{app=\"a\",zone=\"z1\"} 7.0",
            "depth{app=\"b\",zone=\"z2\"} -12345.0",
            "depth{app=\"c\",zone=\"z3\"} 0.25",
            "depth{app=\"back\\\\slash\",zone=\"z4\"} 1e300",
        ]
    );
    assert!(out.ends_with(&format!("depth{{app=\"d\",zone=\"{long}\"}} 18446744.0\n")));

    // Nine labels (more than the pieces hold) and a 29-byte name (longer than a chunk's
    // room): the template path, same bytes.
    let names = ["i", "h", "g", "f", "e", "d", "c", "b", "a"];
    let nine = Family::<CounterValue>::counter("wide", "W.", &names).unwrap();
    nine.with_label_values(&["9", "8", "7", "6", "5", "4", "3", "2", "1"]).unwrap().inc();
    assert!(both::<256>(&nine).ends_with(
        "\nwide_total{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\",h=\"8\",i=\"9\"} 1.0\n"
    ));
    let name = "label_name_of_twenty_nine_abc";
    assert_eq!(name.len(), 29);
    let long_name = Family::<CounterValue>::counter("named", "N.", &[name]).unwrap();
    long_name.with_label_values(&["x"]).unwrap().inc_by(12.0).unwrap();
    assert!(both::<256>(&long_name).ends_with(&format!("\nnamed_total{{{name}=\"x\"}} 12.0\n")));
}

#[test]
fn joined_children_are_written_as_stored_and_give_the_general_paths_bytes() {
    // Names in sorted order: each child whose values need no escaping keeps them joined
    // (`x",b="y`) and a scrape copies them between the first and last pieces; the others keep
    // the positional layout in the same family.
    let f = Family::<CounterValue>::counter("req", "R.", &["code", "method", "path"]).unwrap();
    f.with_label_values(&["200", "GET", "/"]).unwrap().inc();
    f.with_label_values(&["", "", ""]).unwrap().inc_by(2.0).unwrap();
    f.with_label_values(&["500", "PO\"ST", "/x"]).unwrap().inc_by(0.5).unwrap();
    f.with_label_values(&["404", "GET", "a\\b"]).unwrap();
    f.with_label_values(&["301", "ünï", "/\u{1f600}"]).unwrap().inc_by(1e300).unwrap();
    let long = "p".repeat(2100);
    f.with_label_values(&["200", "GET", long.as_str()]).unwrap().inc_by(7.0).unwrap();
    let out = both::<256>(&f);
    both::<2048>(&f);
    both::<0>(&f);
    assert_eq!(
        out.lines().skip(2).take(5).collect::<Vec<_>>(),
        [
            "req_total{code=\"200\",method=\"GET\",path=\"/\"} 1.0",
            "req_total{code=\"\",method=\"\",path=\"\"} 2.0",
            "req_total{code=\"500\",method=\"PO\\\"ST\",path=\"/x\"} 0.5",
            "req_total{code=\"404\",method=\"GET\",path=\"a\\\\b\"} 0.0",
            "req_total{code=\"301\",method=\"ünï\",path=\"/\u{1f600}\"} 1e300",
        ]
    );
    assert!(out.ends_with(&format!("req_total{{code=\"200\",method=\"GET\",path=\"{long}\"}} 7.0\n")));
    // Every child is found again by its values, positional or by name, and reports them.
    for values in [["200", "GET", "/"], ["", "", ""], ["500", "PO\"ST", "/x"], ["301", "ünï", "/\u{1f600}"]]
    {
        let child = f.get(values).unwrap();
        assert_eq!(child.label_values().collect::<Vec<_>>(), values);
        let by_name = f.get_by_name(&[("path", values[2]), ("code", values[0]), ("method", values[1])]);
        assert!(child.ptr_eq(&by_name.unwrap()));
    }
    assert_eq!(f.len(), 6);
    // A key whose value holds a piece between two joined values is another child.
    let one = Family::<CounterValue>::counter("two", "T.", &["a", "b"]).unwrap();
    let x = one.get(["x", "abcdef"]).unwrap();
    let y = one.get(["x\",b=", "ef"]).unwrap();
    assert!(!x.ptr_eq(&y));
    assert_eq!(one.len(), 2);
    assert!(one.remove(["x", "abcdef"]).unwrap());
    assert_eq!(
        both::<256>(&one).lines().skip(2).collect::<Vec<_>>(),
        ["two_total{a=\"x\\\",b=\",b=\"ef\"} 0.0"]
    );
    // One label: the joined bytes are the value itself.
    let single = Family::<GaugeValue>::gauge("g", "G.", &["k"]).unwrap();
    single.with_label_values(&["v"]).unwrap().set(-3.0);
    single.with_label_values(&[""]).unwrap().set(4.0);
    assert_eq!(
        both::<256>(&single).lines().skip(2).collect::<Vec<_>>(),
        ["g{k=\"v\"} -3.0", "g{k=\"\"} 4.0"]
    );
}

#[test]
fn joined_children_of_histograms_and_enums_report_their_values() {
    // These families report through `each` (values read back from the joined bytes), not
    // through `write_lines`: the lines must carry the values given, in the names' order.
    let h = Family::histogram("lat_seconds", "L.", &["code", "path"], [1.0]).unwrap();
    h.with_label_values(&["200", "/x"]).unwrap().observe(0.5);
    h.with_label_values(&["", "/\u{e9}"]).unwrap().observe(2.0);
    let out = both::<256>(&h);
    let lines: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(lines[0], "lat_seconds_bucket{code=\"200\",le=\"1.0\",path=\"/x\"} 1.0");
    assert_eq!(lines[3], "lat_seconds_sum{code=\"200\",path=\"/x\"} 0.5");
    assert_eq!(lines[5], "lat_seconds_bucket{code=\"\",le=\"+Inf\",path=\"/\u{e9}\"} 1.0");
    let e = Family::enumeration("phase", "P.", &["job", "zone"], &["up", "down"]).unwrap();
    e.with_label_values(&["j1", "z1"]).unwrap().set("down").unwrap();
    let out = both::<256>(&e);
    assert!(out.contains("phase{job=\"j1\",phase=\"down\",zone=\"z1\"} 1.0\n"), "{out}");
    assert!(out.contains("phase{job=\"j1\",phase=\"up\",zone=\"z1\"} 0.0\n"), "{out}");
}
