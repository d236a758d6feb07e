//! Merging a multiprocess directory into one exposition, as Python 0.8.0's
//! `MultiProcessCollector` does: counters, summaries and histograms summed over every file
//! (histogram buckets made cumulative after the sum, `_count` from the `+Inf` bucket), gauges
//! combined by their mode.
//!
//! Every file is read whole before any of its values is used: a truncated or corrupt file is
//! reported (as a [`MultiProcessError`] naming it, and with `log::warn!` when collected) and
//! skipped, never half-counted.

use super::error::MultiProcessError;
use super::key::{parse_key, Key};
use super::mmap_dict::{parse_entries, read_used_bytes};
use super::store::{env_dir, GaugeMode};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    is_valid_label_name, is_valid_metric_name, CollectError, Collector, Desc, Labels, MetricType, Sample,
    Sink, Value,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The help text of every merged family, as in Python (files carry no help).
pub const MP_METRIC_HELP: &str = "Multiprocess metric";

/// Label pairs sorted by name.
type LabelSet = Vec<(String, String)>;

/// One merged sample.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedSample {
    /// Full sample name (`x_total`, `x_bucket`, `x`, ...).
    pub name: String,
    /// Label pairs sorted by name (gauges in `all`/`liveall` mode carry `pid`).
    pub labels: Vec<(String, String)>,
    /// The merged value.
    pub value: f64,
}

/// One merged family.
#[derive(Debug, Clone, PartialEq)]
pub struct MergedFamily {
    /// Family name (counters: without `_total`).
    pub name: String,
    /// The type, from the file names.
    pub metric_type: MetricType,
    /// Samples, ordered by labels, then as the type's exposition orders them.
    pub samples: Vec<MergedSample>,
}

/// The result of a merge: families sorted by name, and the files that could not be used.
///
/// It is a [`Collector`] itself (without logging the errors), handy for tests and tools.
#[derive(Debug, Default)]
pub struct Merged {
    /// Merged families, sorted by name.
    pub families: Vec<MergedFamily>,
    /// One error per file (or directory) that was skipped.
    pub errors: Vec<MultiProcessError>,
}

impl Merged {
    /// The value of the sample `name` with exactly `labels` (any order), as Python's
    /// `registry.get_sample_value`.
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want: Vec<(&str, &str)> = labels.to_vec();
        want.sort();
        self.families.iter().flat_map(|f| &f.samples).find_map(|s| {
            let same = s.name == name
                && s.labels.len() == want.len()
                && s.labels.iter().zip(&want).all(|((n, v), (wn, wv))| n == wn && v == wv);
            same.then_some(s.value)
        })
    }

    /// The family named `name`.
    pub fn family(&self, name: &str) -> Option<&MergedFamily> {
        self.families.iter().find(|f| f.name == name)
    }
}

impl Collector for Merged {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        for family in &self.families {
            let desc =
                Desc { name: &family.name, help: MP_METRIC_HELP, unit: "", metric_type: family.metric_type };
            sink.family(&desc)?;
            for s in &family.samples {
                // Checked when the file was read: every sample name starts with its family's.
                let Some(suffix) = s.name.strip_prefix(family.name.as_str()) else { continue };
                let names: Vec<&str> = s.labels.iter().map(|(n, _)| n.as_str()).collect();
                let values: Vec<&str> = s.labels.iter().map(|(_, v)| v.as_str()).collect();
                sink.sample(
                    &desc,
                    &Sample::new(suffix, Labels::new(&names, &values), Value::Float(s.value)),
                )?;
            }
        }
        Ok(())
    }
}

/// What a file name says: the type, and for gauges the mode and the process id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileName {
    metric_type: MetricType,
    mode: Option<GaugeMode>,
    pid: String,
}

/// Parses `<type>_<pid>.db` / `gauge_<mode>_<pid>.db`.
fn parse_file_name(path: &Path) -> Option<FileName> {
    let name = path.file_name()?.to_str()?.strip_suffix(".db")?;
    let (typ, rest) = name.split_once('_')?;
    let metric_type = match typ {
        "counter" => MetricType::Counter,
        "summary" => MetricType::Summary,
        "histogram" => MetricType::Histogram,
        "gauge" => {
            let (mode, pid) = rest.split_once('_')?;
            let mode = mode.parse().ok()?;
            return Some(FileName { metric_type: MetricType::Gauge, mode: Some(mode), pid: pid.to_owned() });
        }
        _ => return None,
    };
    Some(FileName { metric_type, mode: None, pid: rest.to_owned() })
}

/// A key parsed and checked once per merge, shared by every file that has it (the same series
/// appears in every process's file).
struct CheckedKey {
    key: Key,
    /// The `le` label as a number: `None` without one, `Some(Err)` when it is not a number.
    le: Option<Result<f64, ()>>,
}

type KeyCache = HashMap<String, Result<Rc<CheckedKey>, &'static str>>;

fn check_key(raw: &str) -> Result<CheckedKey, &'static str> {
    let key = parse_key(raw)?;
    if !is_valid_metric_name(&key.metric_name) || !is_valid_metric_name(&key.sample_name) {
        return Err("invalid metric name in a key");
    }
    if !key.sample_name.starts_with(&key.metric_name) {
        return Err("a key's sample name does not start with its metric name");
    }
    if key.labels.iter().any(|(n, _)| !is_valid_label_name(n)) {
        return Err("invalid label name in a key");
    }
    // Python's float() accepts surrounding whitespace, `inf`, `+Inf`, `nan`; -0.0 is 0.0.
    let le =
        key.labels.iter().find(|(n, _)| n == "le").map(|(_, text)| {
            text.trim().parse::<f64>().map(|b| if b == 0.0 { 0.0 } else { b }).map_err(|_| ())
        });
    Ok(CheckedKey { key, le })
}

/// One entry of a file, checked.
struct Entry {
    key: Rc<CheckedKey>,
    value: f64,
}

/// Reads and checks every entry of a file; any bad entry rejects the whole file.
fn read_entries(path: &Path, name: &FileName, cache: &mut KeyCache) -> Result<Vec<Entry>, MultiProcessError> {
    let corrupt = |offset, reason| MultiProcessError::Corrupt { path: path.to_path_buf(), offset, reason };
    let data = read_used_bytes(path)?;
    let mut out = Vec::new();
    for (raw, value, offset) in parse_entries(&data, data.len(), path)? {
        let checked = match cache.get(raw) {
            Some(c) => c.clone(),
            None => {
                let c = check_key(raw).map(Rc::new);
                cache.insert(raw.to_owned(), c.clone());
                c
            }
        };
        let key = checked.map_err(|why| corrupt(offset, why))?;
        if name.metric_type == MetricType::Histogram && matches!(key.le, Some(Err(()))) {
            return Err(corrupt(offset, "a bucket's le is not a number"));
        }
        out.push(Entry { key, value });
    }
    Ok(out)
}

/// Accumulates one family.
struct Acc {
    metric_type: MetricType,
    /// (sample name, labels) -> value.
    values: HashMap<(String, LabelSet), f64>,
    /// Histogram buckets: labels without `le` -> bound bits -> summed count.
    buckets: HashMap<LabelSet, HashMap<u64, f64>>,
}

/// Where a sample sorts within its family: by labels (without `le`), then as the type's
/// exposition orders it (value, buckets by bound, `_count`, `_sum`, others by name).
fn sort_samples(family: &str, samples: &mut Vec<MergedSample>) {
    let mut keyed: Vec<(LabelSet, u8, f64, MergedSample)> = samples
        .drain(..)
        .map(|s| {
            let suffix = s.name.strip_prefix(family).unwrap_or(&s.name);
            let le = s.labels.iter().find(|(n, _)| n == "le").and_then(|(_, v)| v.parse::<f64>().ok());
            let (rank, bound) = match suffix {
                "" | "_total" => (0, 0.0),
                "_bucket" => (1, le.unwrap_or(f64::NAN)),
                "_count" => (2, 0.0),
                "_sum" => (3, 0.0),
                _ => (4, 0.0),
            };
            let without_le = s.labels.iter().filter(|(n, _)| n != "le").cloned().collect();
            (without_le, rank, bound, s)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.total_cmp(&b.2)).then_with(|| a.3.name.cmp(&b.3.name))
    });
    samples.extend(keyed.into_iter().map(|k| k.3));
}

/// Merges the given files (Python's `MultiProcessCollector.merge`). With `accumulate`,
/// histogram buckets are made cumulative and `_count` is added, as the exposition needs; without
/// it, bucket counts stay per bucket (for writing a merge back into files).
pub fn merge_files<P: AsRef<Path>>(files: &[P], accumulate: bool) -> Merged {
    let mut errors = Vec::new();
    let mut families: BTreeMap<String, Acc> = BTreeMap::new();
    let mut cache = KeyCache::new();
    for path in files {
        let path = path.as_ref();
        let Some(name) = parse_file_name(path) else {
            errors.push(MultiProcessError::BadFileName(path.to_path_buf()));
            continue;
        };
        let entries = match read_entries(path, &name, &mut cache) {
            Ok(e) => e,
            Err(MultiProcessError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound
                    && matches!(name.mode, Some(GaugeMode::LiveAll | GaugeMode::LiveSum)) =>
            {
                // mark_process_dead may remove these between the listing and the read.
                continue;
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for Entry { key, value } in entries {
            let Key { metric_name, sample_name, labels } = &key.key;
            let (sample_name, mut labels) = (sample_name.clone(), labels.clone());
            let le = match key.le {
                Some(Ok(bound)) => Some(bound),
                _ => None,
            };
            if !families.contains_key(metric_name) {
                families.insert(
                    metric_name.clone(),
                    Acc { metric_type: name.metric_type, values: HashMap::new(), buckets: HashMap::new() },
                );
            }
            let Some(acc) = families.get_mut(metric_name) else { continue };
            match name.mode {
                Some(mode) => {
                    // As Python: the file's pid replaces any `pid` label, and the modes that
                    // combine processes drop it.
                    labels.retain(|(n, _)| n != "pid");
                    match mode {
                        GaugeMode::All | GaugeMode::LiveAll => {
                            labels.push(("pid".to_owned(), name.pid.clone()));
                            labels.sort();
                            acc.values.insert((sample_name, labels), value);
                        }
                        GaugeMode::LiveSum => {
                            *acc.values.entry((sample_name, labels)).or_insert(0.0) += value
                        }
                        GaugeMode::Max | GaugeMode::Min => {
                            let current = acc.values.entry((sample_name, labels)).or_insert(value);
                            let replace =
                                if mode == GaugeMode::Max { value > *current } else { value < *current };
                            if replace {
                                *current = value;
                            }
                        }
                    }
                }
                None => match le {
                    Some(bound) if acc.metric_type == MetricType::Histogram => {
                        labels.retain(|(n, _)| n != "le");
                        *acc.buckets.entry(labels).or_default().entry(bound.to_bits()).or_insert(0.0) +=
                            value;
                    }
                    _ => *acc.values.entry((sample_name, labels)).or_insert(0.0) += value,
                },
            }
        }
    }
    let families = families
        .into_iter()
        .map(|(name, acc)| {
            let mut values = acc.values;
            for (labels, buckets) in acc.buckets {
                let mut buckets: Vec<(f64, f64)> =
                    buckets.into_iter().map(|(b, v)| (f64::from_bits(b), v)).collect();
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut total = 0.0;
                for (bound, v) in buckets {
                    let mut buf = [0u8; FLOAT_BUF];
                    let mut l = labels.clone();
                    l.push(("le".to_owned(), go_float(bound, &mut buf).to_owned()));
                    l.sort();
                    total += v;
                    values.insert((format!("{name}_bucket"), l), if accumulate { total } else { v });
                }
                if accumulate {
                    values.insert((format!("{name}_count"), labels), total);
                }
            }
            let mut samples: Vec<MergedSample> = values
                .into_iter()
                .map(|((n, labels), value)| MergedSample { name: n, labels, value })
                .collect();
            sort_samples(&name, &mut samples);
            MergedFamily { name, metric_type: acc.metric_type, samples }
        })
        .collect();
    Merged { families, errors }
}

/// Exposes the merge of every process's files in a directory; see the module documentation.
///
/// Register it (alone, or beside collectors of the scraping process itself) with the registry
/// an HTTP server exposes; it reads the directory on every scrape.
///
/// ```
/// use promstack::multiprocess::{MultiProcessCollector, Opts, Store};
/// let dir = std::env::temp_dir().join(format!("doc-mpc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// // Two "processes" (identifiers 1 and 2) count into the same directory.
/// let a = Store::open_with_identifier(&dir, || 1).unwrap();
/// let b = Store::open_with_identifier(&dir, || 2).unwrap();
/// a.counter(Opts::new("c", "help")).unwrap().inc();
/// b.counter(Opts::new("c", "help")).unwrap().inc_by(2.0).unwrap();
/// let collector = MultiProcessCollector::new(&dir).unwrap();
/// let text = String::from_utf8(promstack::encode_text(Vec::new(), &collector).unwrap()).unwrap();
/// assert_eq!(text, "# HELP c_total Multiprocess metric\n# TYPE c_total counter\nc_total 3.0\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct MultiProcessCollector {
    dir: PathBuf,
}

impl MultiProcessCollector {
    /// A collector of `dir`, which must be an existing directory.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, MultiProcessError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(MultiProcessError::NotADirectory(dir.to_path_buf()));
        }
        Ok(MultiProcessCollector { dir: dir.to_path_buf() })
    }

    pub(crate) fn unchecked(dir: PathBuf) -> Self {
        MultiProcessCollector { dir }
    }

    /// A collector of the directory named by `prometheus_multiproc_dir` (or
    /// `PROMETHEUS_MULTIPROC_DIR`).
    pub fn from_env() -> Result<Self, MultiProcessError> {
        MultiProcessCollector::new(env_dir().ok_or(MultiProcessError::EnvNotSet)?)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `*.db` files of the directory, sorted by name.
    pub fn files(&self) -> Result<Vec<PathBuf>, MultiProcessError> {
        let io = |e| MultiProcessError::io(&self.dir, e);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "db") {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Reads and merges the directory now.
    pub fn merge(&self) -> Merged {
        match self.files() {
            Ok(files) => merge_files(&files, true),
            Err(e) => Merged { families: Vec::new(), errors: vec![e] },
        }
    }
}

/// Merges the directory on every collection; unusable files are logged with `log::warn!` and
/// skipped. Describes nothing: the names present change as processes create metrics.
impl Collector for MultiProcessCollector {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let merged = self.merge();
        for e in &merged.errors {
            log::warn!("multiprocess: skipped: {e}");
        }
        merged.collect(sink)
    }

    fn describe(&self, _sink: &mut dyn Sink) -> Result<(), CollectError> {
        Ok(())
    }
}

/// Removes the `liveall` and `livesum` gauge files of process `pid` from `dir`, so its live
/// gauges leave the merge (Python's `mark_process_dead`). Call it when a worker exits. Files
/// already gone are not an error.
///
/// ```
/// use promstack::multiprocess::{mark_process_dead, GaugeMode, MultiProcessCollector, Opts, Store};
/// let dir = std::env::temp_dir().join(format!("doc-dead-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let worker = Store::open_with_identifier(&dir, || 42).unwrap();
/// worker.gauge(Opts::new("busy", "Busy."), GaugeMode::LiveSum).unwrap().set(1.0);
/// mark_process_dead(42, &dir).unwrap();
/// assert_eq!(MultiProcessCollector::new(&dir).unwrap().merge().get_sample_value("busy", &[]), None);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn mark_process_dead(
    pid: impl std::fmt::Display,
    dir: impl AsRef<Path>,
) -> Result<(), MultiProcessError> {
    for mode in ["livesum", "liveall"] {
        let path = dir.as_ref().join(format!("gauge_{mode}_{pid}.db"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(MultiProcessError::io(path, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let f = |s: &str| parse_file_name(Path::new(s));
        assert_eq!(f("/d/counter_12.db").unwrap().metric_type, MetricType::Counter);
        let g = f("gauge_livesum_77.db").unwrap();
        assert_eq!((g.mode, g.pid.as_str()), (Some(GaugeMode::LiveSum), "77"));
        assert!(f("gauge_sum_1.db").is_none());
        assert!(f("gauge_1.db").is_none());
        assert!(f("info_1.db").is_none());
        assert!(f("counter.db").is_none());
        assert!(f("counter_1.txt").is_none());
    }
}
