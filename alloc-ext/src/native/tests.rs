extern crate std;

use super::*;
use alloc::vec;
use std::sync::Arc;
use std::thread;

fn cfg(schema: i8) -> NativeConfig {
    NativeConfig::new(schema).unwrap()
}

#[test]
fn keys_follow_the_schema() {
    // Schema 0: bucket i is (2^(i-1), 2^i].
    assert_eq!(bucket_key(1.0, 0), 0);
    assert_eq!(bucket_key(1.5, 0), 1);
    assert_eq!(bucket_key(2.0, 0), 1);
    assert_eq!(bucket_key(0.5, 0), -1);
    assert_eq!(bucket_key(-3.0, 0), 2);
    // Negative schemas round up, also below 1 (the keys are negative there).
    assert_eq!(bucket_key(3.0, -1), 1);
    assert_eq!(bucket_key(0.25, -1), -1);
    assert_eq!(bucket_key(0.2, -1), -1);
    assert_eq!(bucket_key(0.1, -1), -1);
    assert_eq!(bucket_key(0.05, -1), -2);
    // Infinity: one past the bucket of f64::MAX.
    assert_eq!(bucket_key(f64::INFINITY, 0), 1025);
    assert_eq!(bucket_key(f64::INFINITY, 8), 262_145);
    assert_eq!(bucket_key(f64::MAX, 8), 262_144);
    assert_eq!(bucket_key(f64::MIN_POSITIVE / 4.0, 0), -1024);
    assert_eq!(bucket_key(f64::MIN_POSITIVE / 3.0, 0), -1023);
    // Every schema: a bucket's upper bound is in it, the next float above is not.
    for schema in MIN_SCHEMA..=MAX_SCHEMA {
        for v in [1e-300, 0.001, 0.3, 1.0, 7.5, 1e10, 1e300] {
            let k = bucket_key(v, schema);
            let upper = bucket_upper(k, schema);
            assert!(v <= upper, "{v} {schema} {k} {upper}");
            assert_eq!(bucket_key(upper, schema), k, "{v} {schema}");
            assert_eq!(bucket_key(f64::from_bits(upper.to_bits() + 1), schema), k + 1, "{v} {schema}");
        }
    }
}

#[test]
fn factor_picks_the_schema() {
    assert_eq!(NativeConfig::from_factor(1.1).unwrap().schema(), 3);
    assert_eq!(NativeConfig::from_factor(2.0).unwrap().schema(), 0);
    assert_eq!(NativeConfig::from_factor(1.0001).unwrap().schema(), 8);
    assert_eq!(NativeConfig::from_factor(1e9).unwrap().schema(), -4);
    assert!(NativeConfig::from_factor(1.0).is_err());
    assert!(NativeConfig::new(-5).is_err());
}

#[test]
fn observations_land_in_their_buckets() {
    let c = cfg(3);
    let h = NativeHistogramValue::new();
    for v in [0.0, 0.3, 0.5, 0.7, 3.0, -2.0, f64::NAN] {
        h.observe(&c, v);
    }
    let s = h.snapshot(&c);
    assert_eq!(s.count, 7);
    assert!(s.sum.is_nan());
    assert_eq!(s.zero, 1);
    assert_eq!(s.positive, vec![(-13, 1), (-8, 1), (-4, 1), (13, 1)]);
    assert_eq!(s.negative, vec![(8, 1)]);
    // Scraping twice changes nothing.
    let again = h.snapshot(&c);
    assert_eq!((again.count, again.zero, again.positive, again.negative), (7, 1, s.positive, s.negative));
}

#[test]
fn the_bucket_limit_lowers_the_resolution() {
    let c = cfg(8).with_max_buckets(4);
    let h = NativeHistogramValue::new();
    for i in 1..=1000 {
        h.observe(&c, f64::from(i));
    }
    let s = h.snapshot(&c);
    assert!(s.positive.len() <= 4, "{s:?}");
    assert_eq!(s.count, 1000);
    assert_eq!(s.positive.iter().map(|b| b.1).sum::<u64>(), 1000);
    assert_eq!(s.sum, 500_500.0);
    // 1..1000 spans 10 powers of two: four buckets need factor 2^4 at least, schema -2.
    assert_eq!(s.schema, -2);
    // Every observation is in the bucket its value has at the final schema.
    let mut want: Vec<(i32, u64)> = Vec::new();
    for i in 1..=1000 {
        let k = bucket_key(f64::from(i), s.schema);
        match want.last_mut() {
            Some(b) if b.0 == k => b.1 += 1,
            _ => want.push((k, 1)),
        }
    }
    assert_eq!(s.positive, want);
}

#[test]
fn the_zero_bucket_widens_before_the_resolution_drops() {
    let c = cfg(0).with_max_buckets(3).with_max_zero_threshold(1.0);
    let h = NativeHistogramValue::new();
    for v in [0.1, 0.3, 3.0, 10.0] {
        h.observe(&c, v);
    }
    let s = h.snapshot(&c);
    assert_eq!(s.schema, 0);
    // 0.1 is in (1/16, 1/8]: the zero bucket grows to 0.125 and takes it.
    assert_eq!(s.zero_threshold, 0.125);
    assert_eq!(s.zero, 1);
    assert_eq!(s.positive, vec![(-1, 1), (2, 1), (4, 1)]);
}

#[test]
fn classic_buckets_are_kept_alongside() {
    let c = cfg(3).with_classic(&[0.5, 1.0]).unwrap();
    let h = NativeHistogramValue::new();
    for v in [0.1, 0.5, 0.9, 7.0, f64::NAN] {
        h.observe(&c, v);
    }
    assert_eq!(h.snapshot(&c).classic, vec![2, 1, 2]);
}

#[test]
fn reset_empties_everything() {
    let c = cfg(3).with_max_buckets(2);
    let h = NativeHistogramValue::new();
    for v in [1.0, 10.0, 100.0, 1000.0] {
        h.observe(&c, v);
    }
    assert!(h.snapshot(&c).schema < 3);
    h.reset();
    let s = h.snapshot(&c);
    assert_eq!((s.count, s.sum, s.zero), (0, 0.0, 0));
    assert!(s.positive.is_empty());
    h.observe(&c, 1.0);
    assert_eq!(h.snapshot(&c).count, 1);
}

#[test]
fn exemplar_labels_are_limited_to_128_characters() {
    let c = cfg(3);
    let h = NativeHistogramValue::new();
    let long = "é".repeat(121);
    assert_eq!(
        h.observe_with_exemplar(&c, 1.0, &[("trace_id", &long)], None),
        Err(ExemplarError::TooLong { chars: 129 })
    );
    let too_long = "é".repeat(122);
    assert_eq!(
        h.observe_with_exemplar(&c, 1.0, &[("trace_id", &too_long)], None),
        Err(ExemplarError::TooLong { chars: 130 })
    );
    assert!(matches!(
        h.observe_with_exemplar(&c, 1.0, &[("0bad", "x")], None),
        Err(ExemplarError::InvalidLabelName(_))
    ));
    // Refused exemplars record nothing; 128 characters (8 + 120) are fine.
    assert_eq!(h.snapshot(&c).count, 0);
    h.observe_with_exemplar(&c, 1.0, &[("trace_id", &"é".repeat(120))], None).unwrap();
    assert_eq!(h.snapshot(&c).count, 1);
}

/// Observers on several threads, scrapes and limit changes in between: nothing is lost and
/// every scrape is consistent (the buckets add up to the count).
#[test]
fn concurrent_observations_and_scrapes_add_up() {
    const THREADS: u64 = 4;
    const EACH: u64 = 50_000;
    let c = Arc::new(cfg(8).with_max_buckets(20));
    let h = Arc::new(NativeHistogramValue::new());
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (c, h) = (c.clone(), h.clone());
            thread::spawn(move || {
                for i in 0..EACH {
                    // Spread over many buckets (so the limit keeps acting), some negative, some zero.
                    let v = match i % 5 {
                        0 => 0.0,
                        1 => -((i % 997) as f64),
                        _ => ((i * (t + 1)) % 10_007) as f64 / 7.0,
                    };
                    h.observe(&c, v);
                }
            })
        })
        .collect();
    let mut scrapes = 0;
    while workers.iter().any(|w| !w.is_finished()) {
        let s = h.snapshot(&c);
        let buckets: u64 = s.positive.iter().chain(&s.negative).map(|b| b.1).sum();
        assert_eq!(buckets + s.zero, s.count, "{s:?}");
        scrapes += 1;
    }
    for w in workers {
        w.join().unwrap();
    }
    let s = h.snapshot(&c);
    let buckets: u64 = s.positive.iter().chain(&s.negative).map(|b| b.1).sum();
    assert_eq!(s.count, THREADS * EACH);
    assert_eq!(buckets + s.zero, s.count);
    assert!(s.positive.len() + s.negative.len() <= 20, "{s:?}");
    assert!(scrapes > 0);
}
