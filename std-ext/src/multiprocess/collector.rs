//! Merging a multiprocess directory into one exposition, as Python 0.8.0's
//! `MultiProcessCollector` does: counters, summaries and histograms summed over every file
//! (histogram buckets made cumulative after the sum, `_count` from the `+Inf` bucket), gauges
//! combined by their mode.
//!
//! Every file is read whole before any of its values is used: a truncated or corrupt file is
//! reported (as a [`MultiProcessError`] naming it, and with `log::warn!` when collected) and
//! skipped, never half-counted.

use super::error::MultiProcessError;
use super::key::parse_key_into;
use super::mmap_dict::{for_each_raw_entry, read_used_bytes};
use super::store::{env_dir, GaugeMode};
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use promstack_alloc::{MetricFamily, OwnedSample};
use promstack_core::encoding::{go_float, FLOAT_BUF};
use promstack_core::{
    is_valid_label_name, is_valid_metric_name, CollectError, Collector, Desc, Labels, MetricType, Sample,
    Sink, Value,
};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

/// The help text of every merged family, as in Python (files carry no help).
pub const MP_METRIC_HELP: &str = "Multiprocess metric";

/// Label pairs sorted by name.
type LabelSet = Vec<(String, String)>;

/// The merged family type of earlier versions: the merge now produces promstack-alloc's
/// [`MetricFamily`], the owned family of every crate.
#[deprecated(note = "the merge produces `MetricFamily`")]
pub type MergedFamily = MetricFamily;

/// The merged sample type of earlier versions: merged families hold [`OwnedSample`]s (a name
/// suffix and labels) like every [`MetricFamily`].
#[deprecated(note = "merged families hold `OwnedSample`s")]
pub type MergedSample = OwnedSample;

/// The result of a merge: families sorted by name, and the files that could not be used.
///
/// Each family is a [`MetricFamily`] with the help text [`MP_METRIC_HELP`], its samples ordered
/// by labels (sorted by name; gauges in `all`/`liveall` mode carry `pid`), then as the type's
/// exposition orders them. It is a [`Collector`] itself (without logging the errors), handy for
/// tests and tools.
#[derive(Debug, Default)]
pub struct Merged {
    /// Merged families, sorted by name.
    pub families: Vec<MetricFamily>,
    /// One error per file (or directory) that was skipped.
    pub errors: Vec<MultiProcessError>,
}

impl Merged {
    /// The value of the sample `name` with exactly `labels` (any order), as Python's
    /// `registry.get_sample_value`.
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families.iter().find_map(|f| f.get_sample_value(name, labels))
    }

    /// The family named `name`.
    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|f| f.name() == name)
    }
}

impl Collector for Merged {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.families.iter().try_for_each(|f| f.collect(sink))
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

/// `labels_no_pid` of a key whose labels are all kept but one is `le`: that set is interned
/// only when a gauge file needs it.
const WITH_LE: u32 = u32::MAX;

/// A key parsed and checked once per merge, shared by every file that has it (the same series
/// appears in every process's file). Names and label sets are interned as small integers, so
/// adding a sample hashes a few integers and allocates nothing.
#[derive(Clone, Copy)]
struct CheckedKey {
    family: u32,
    sample: u32,
    /// The labels without `le` (all of them when there is none).
    labels_no_le: u32,
    /// The labels without `pid` (gauges: the file's pid replaces it).
    labels_no_pid: u32,
    /// The `le` label: its text (a range of [`Interned::texts`]) and its value, `Err` when it is
    /// not a number.
    le: Option<((u32, u32), Result<f64, ()>)>,
}

/// Label sets numbered in the order they are first seen; found by borrowed pairs without
/// allocating.
struct SetInterner {
    items: Vec<LabelSet>,
    table: HashTable<u32>,
}

fn hash_pairs<'p>(hasher: &DefaultHashBuilder, pairs: impl Iterator<Item = (&'p str, &'p str)>) -> u64 {
    let mut h = hasher.build_hasher();
    for (n, v) in pairs {
        // 0xff never occurs in UTF-8, so the pieces cannot run into each other.
        h.write(n.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

fn same_pairs<'a, 'b>(
    mut a: impl Iterator<Item = (&'a str, &'a str)>,
    mut b: impl Iterator<Item = (&'b str, &'b str)>,
) -> bool {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.0 == y.0 && x.1 == y.1 => {}
            _ => return false,
        }
    }
}

fn pairs_of(set: &LabelSet) -> impl Iterator<Item = (&str, &str)> + Clone {
    set.iter().map(|(n, v)| (n.as_str(), v.as_str()))
}

impl SetInterner {
    fn id<'p>(
        &mut self,
        hasher: &DefaultHashBuilder,
        pairs: impl Iterator<Item = (&'p str, &'p str)> + Clone,
    ) -> u32 {
        let hash = hash_pairs(hasher, pairs.clone());
        let SetInterner { items, table } = self;
        if let Some(&id) = table.find(hash, |&id| same_pairs(pairs_of(&items[id as usize]), pairs.clone())) {
            return id;
        }
        let id = items.len() as u32;
        items.push(pairs.map(|(n, v)| (n.to_owned(), v.to_owned())).collect());
        table.insert_unique(hash, id, |&id| hash_pairs(hasher, pairs_of(&items[id as usize])));
        id
    }
}

/// Strings numbered in the order they are first seen.
#[derive(Default)]
struct StrInterner {
    items: Vec<String>,
    ids: HashMap<String, u32>,
}

impl StrInterner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.items.len() as u32;
        self.items.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }
}

/// Per-merge state: interned names and label sets, and the keys seen so far.
struct Interned {
    hasher: DefaultHashBuilder,
    /// Every distinct raw key, back to back; `keys` holds (start, length, checked key).
    raw: Vec<u8>,
    keys: HashTable<(u32, u32, Result<u32, &'static str>)>,
    checked: Vec<CheckedKey>,
    /// Where each checked key's raw bytes are in `raw`, by checked key.
    ranges: Vec<(u32, u32)>,
    /// The text of `le` labels, back to back.
    texts: String,
    families: StrInterner,
    samples: StrInterner,
    sets: SetInterner,
    pids: StrInterner,
}

impl Interned {
    fn new() -> Self {
        Interned {
            hasher: DefaultHashBuilder::default(),
            raw: Vec::new(),
            keys: HashTable::new(),
            checked: Vec::new(),
            ranges: Vec::new(),
            texts: String::new(),
            families: StrInterner::default(),
            samples: StrInterner::default(),
            sets: SetInterner { items: Vec::new(), table: HashTable::new() },
            pids: StrInterner::default(),
        }
    }

    /// The checked key for the raw bytes of a key, parsing them the first time. `guess` is the
    /// key at the same position in the previous file: processes create their metrics in the
    /// same order, so it mostly matches, and a compare is cheaper than hashing.
    fn key(&mut self, raw: &[u8], guess: Option<u32>) -> Result<u32, &'static str> {
        if let Some(id) = guess {
            let (start, len) = self.ranges[id as usize];
            if &self.raw[start as usize..(start + len) as usize] == raw {
                return Ok(id);
            }
        }
        let hash = self.hasher.hash_one(raw);
        let arena = &self.raw;
        let same = |e: &(u32, u32, _)| &arena[e.0 as usize..(e.0 + e.1) as usize] == raw;
        if let Some(e) = self.keys.find(hash, same) {
            return e.2;
        }
        let checked =
            std::str::from_utf8(raw).map_err(|_| "key is not valid UTF-8").and_then(|k| self.check_key(k));
        let start = self.raw.len() as u32;
        self.raw.extend_from_slice(raw);
        if checked.is_ok() {
            self.ranges.push((start, raw.len() as u32));
        }
        let (arena, hasher) = (&self.raw, &self.hasher);
        self.keys.insert_unique(hash, (start, raw.len() as u32, checked), |e| {
            hasher.hash_one(&arena[e.0 as usize..(e.0 + e.1) as usize])
        });
        checked
    }

    fn check_key(&mut self, raw: &str) -> Result<u32, &'static str> {
        let mut labels = Vec::new();
        let (metric_name, sample_name) = parse_key_into(raw, &mut labels)?;
        if !is_valid_metric_name(&metric_name) || !is_valid_metric_name(&sample_name) {
            return Err("invalid metric name in a key");
        }
        if !sample_name.starts_with(&*metric_name) {
            return Err("a key's sample name does not start with its metric name");
        }
        if labels.iter().any(|(n, _)| !is_valid_label_name(n)) {
            return Err("invalid label name in a key");
        }
        let pairs = labels.iter().map(|(n, v)| (&**n, &**v));
        let le = match labels.iter().find(|(n, _)| n == "le") {
            Some((_, text)) => {
                let start = self.texts.len() as u32;
                self.texts.push_str(text);
                // Python's float() accepts surrounding whitespace, `inf`, `+Inf`, `nan`.
                Some(((start, text.len() as u32), text.trim().parse::<f64>().map_err(|_| ())))
            }
            None => None,
        };
        let labels_no_le = self.sets.id(&self.hasher, pairs.clone().filter(|(n, _)| *n != "le"));
        let labels_no_pid = if labels.iter().any(|(n, _)| n == "pid") {
            self.sets.id(&self.hasher, pairs.filter(|(n, _)| *n != "pid"))
        } else if le.is_none() {
            labels_no_le
        } else {
            // Only a gauge file needs it: made when one does (see `labels_with_le`).
            WITH_LE
        };
        self.checked.push(CheckedKey {
            family: self.families.id(&metric_name),
            sample: self.samples.id(&sample_name),
            labels_no_le,
            labels_no_pid,
            le,
        });
        Ok(self.checked.len() as u32 - 1)
    }

    /// The full label set of a key with `le` (only merged as such outside histograms).
    fn labels_with_le(&mut self, key: u32) -> u32 {
        let k = &self.checked[key as usize];
        let Some(((start, len), _)) = k.le else { return k.labels_no_le };
        let le = &self.texts[start as usize..(start + len) as usize];
        let mut set = self.sets.items[k.labels_no_le as usize].clone();
        set.push(("le".to_owned(), le.to_owned()));
        set.sort();
        self.sets.id(&self.hasher, pairs_of(&set))
    }
}

/// No pid: the third part of a sample's key when its file's pid is not a label.
const NO_PID: u32 = u32::MAX;

/// Accumulates one family.
struct Acc {
    metric_type: MetricType,
    /// (sample name, label set, file pid or [`NO_PID`]) -> value.
    values: HashMap<(u32, u32, u32), f64>,
    /// Histogram buckets: (label set without `le`, bound bits with -0.0 as 0.0) -> (count, the
    /// bound as first seen, so a `-0.0` bound keeps its spelling, as in Python).
    buckets: HashMap<(u32, u64), (f64, f64)>,
}

/// The larger of two gauge values, the same whatever order the files come in: NaN only when
/// both are NaN (a process that reports NaN does not hide the others), and `0.0` over `-0.0`.
fn gauge_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b > a || (b == a && b.is_sign_positive()) {
        b
    } else {
        a
    }
}

/// The smaller of two gauge values, as [`gauge_max`]: NaN only when both are, `-0.0` over `0.0`.
fn gauge_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b < a || (b == a && b.is_sign_negative()) {
        b
    } else {
        a
    }
}

/// Reads and checks every entry of a file into `out` as (checked key, value); any bad entry
/// rejects the whole file. `previous` holds the entries of the previous file read.
fn read_entries(
    path: &Path,
    name: &FileName,
    interned: &mut Interned,
    buf: &mut Vec<u8>,
    previous: &[(u32, f64)],
    out: &mut Vec<(u32, f64)>,
) -> Result<(), MultiProcessError> {
    let corrupt = |offset, reason| MultiProcessError::Corrupt { path: path.to_path_buf(), offset, reason };
    out.clear();
    read_used_bytes(path, buf)?;
    for_each_raw_entry(&buf[..], buf.len(), path, |raw, value, offset| {
        let guess = previous.get(out.len()).map(|e| e.0);
        let id = interned.key(raw, guess).map_err(|why| corrupt(offset, why))?;
        let bad_le = matches!(interned.checked[id as usize].le, Some((_, Err(()))));
        if name.metric_type == MetricType::Histogram && bad_le {
            return Err(corrupt(offset, "a bucket's le is not a number"));
        }
        out.push((id, value));
        Ok(())
    })
}

/// What a merged sample is called.
#[derive(Clone, Copy)]
enum OutName {
    /// An interned sample name.
    Sample(u32),
    Bucket,
    Count,
}

/// One merged sample before it is spelled out: labels are an interned set, plus the file's
/// pid and a bucket's bound where they apply.
struct Out {
    /// The label set to order by (without `le`).
    by: u32,
    rank: u8,
    bound: f64,
    name: OutName,
    set: u32,
    pid: u32,
    /// A bucket's `le` text: a range of [`Interned::texts`].
    le: Option<(u32, u32)>,
    value: f64,
}

/// The merge before it is spelled out as owned samples or handed to a sink.
struct RawMerge {
    interned: Interned,
    /// (family, type, samples in exposition order), sorted by family name.
    families: Vec<(u32, MetricType, Vec<Out>)>,
    errors: Vec<MultiProcessError>,
}

fn merge_raw<P: AsRef<Path>>(files: &[P], accumulate: bool) -> RawMerge {
    let mut errors = Vec::new();
    let mut accs: Vec<Option<Acc>> = Vec::new();
    let mut interned = Interned::new();
    let mut buf = Vec::new();
    let (mut entries, mut previous) = (Vec::new(), Vec::new());
    for path in files {
        let path = path.as_ref();
        let Some(name) = parse_file_name(path) else {
            errors.push(MultiProcessError::BadFileName(path.to_path_buf()));
            continue;
        };
        match read_entries(path, &name, &mut interned, &mut buf, &previous, &mut entries) {
            Ok(()) => std::mem::swap(&mut entries, &mut previous),
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
        }
        let pid = match name.mode {
            Some(GaugeMode::All | GaugeMode::LiveAll) => interned.pids.id(&name.pid),
            _ => NO_PID,
        };
        for &(id, value) in &previous {
            let mut key = interned.checked[id as usize];
            if name.mode.is_some() && key.labels_no_pid == WITH_LE {
                key.labels_no_pid = interned.labels_with_le(id);
            }
            let family = key.family as usize;
            if accs.len() <= family {
                accs.resize_with(family + 1, || None);
            }
            let acc = accs[family].get_or_insert_with(|| Acc {
                metric_type: name.metric_type,
                values: HashMap::default(),
                buckets: HashMap::default(),
            });
            match name.mode {
                // As Python: the file's pid replaces any `pid` label, and the modes that combine
                // processes drop it.
                Some(GaugeMode::All | GaugeMode::LiveAll) => {
                    acc.values.insert((key.sample, key.labels_no_pid, pid), value);
                }
                Some(GaugeMode::LiveSum) => {
                    *acc.values.entry((key.sample, key.labels_no_pid, NO_PID)).or_insert(0.0) += value
                }
                Some(mode @ (GaugeMode::Max | GaugeMode::Min)) => {
                    let pick = if mode == GaugeMode::Max { gauge_max } else { gauge_min };
                    acc.values
                        .entry((key.sample, key.labels_no_pid, NO_PID))
                        .and_modify(|v| *v = pick(*v, value))
                        .or_insert(value);
                }
                None => match key.le {
                    Some((_, Ok(bound))) if acc.metric_type == MetricType::Histogram => {
                        let bits = if bound == 0.0 { 0 } else { bound.to_bits() };
                        acc.buckets.entry((key.labels_no_le, bits)).or_insert((0.0, bound)).0 += value;
                    }
                    Some(_) => {
                        let (sample, set) = (key.sample, interned.labels_with_le(id));
                        *acc.values.entry((sample, set, NO_PID)).or_insert(0.0) += value
                    }
                    None => *acc.values.entry((key.sample, key.labels_no_le, NO_PID)).or_insert(0.0) += value,
                },
            }
        }
    }
    let mut ranks = Vec::new();
    let mut families: Vec<(u32, MetricType, Vec<Out>)> = accs
        .into_iter()
        .enumerate()
        .filter_map(|(i, acc)| Some((i as u32, acc?)))
        .map(|(i, acc)| {
            let t = acc.metric_type;
            (i, t, order_family(&mut interned, &mut ranks, i, acc, accumulate))
        })
        .collect();
    let names = &interned.families.items;
    families.sort_by(|a, b| names[a.0 as usize].cmp(&names[b.0 as usize]));
    RawMerge { interned, families, errors }
}

/// The samples of one family, ordered by labels (without `le`), then as the type's exposition
/// orders them (value, buckets by bound, `_count`, `_sum`, others by name). `ranks` is scratch
/// space indexed by label set.
fn order_family(
    interned: &mut Interned,
    ranks: &mut Vec<u32>,
    family: u32,
    mut acc: Acc,
    accumulate: bool,
) -> Vec<Out> {
    let mut out: Vec<Out> = Vec::with_capacity(acc.values.len() + acc.buckets.len() + acc.buckets.len() / 8);
    let name = &interned.families.items[family as usize];
    let count_id = interned.samples.ids.get(&format!("{name}_count")).copied();

    let mut buckets: Vec<(u32, f64, f64)> =
        acc.buckets.into_iter().map(|((set, _), (v, bound))| (set, bound, v)).collect();
    buckets.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut i = 0;
    while i < buckets.len() {
        let set = buckets[i].0;
        let mut total = 0.0;
        while i < buckets.len() && buckets[i].0 == set {
            let (_, bound, v) = buckets[i];
            total += v;
            let value = if accumulate { total } else { v };
            let mut buf = [0u8; FLOAT_BUF];
            let start = interned.texts.len() as u32;
            interned.texts.push_str(go_float(bound, &mut buf));
            let le = Some((start, interned.texts.len() as u32 - start));
            out.push(Out { by: set, rank: 1, bound, name: OutName::Bucket, set, pid: NO_PID, le, value });
            i += 1;
        }
        if accumulate {
            // As Python: the sum of the buckets replaces any `_count` a file had.
            if let Some(c) = count_id {
                acc.values.remove(&(c, set, NO_PID));
            }
            out.push(Out {
                by: set,
                rank: 2,
                bound: 0.0,
                name: OutName::Count,
                set,
                pid: NO_PID,
                le: None,
                value: total,
            });
        }
    }

    for ((sample, set, pid), value) in acc.values {
        let family_name = &interned.families.items[family as usize];
        let sample_name = &interned.samples.items[sample as usize];
        let suffix = sample_name.strip_prefix(family_name.as_str()).unwrap_or(sample_name);
        let labels = &interned.sets.items[set as usize];
        let le = labels.iter().find(|(n, _)| n == "le").map(|(_, v)| v.parse::<f64>().unwrap_or(f64::NAN));
        let (rank, bound) = match suffix {
            "" | "_total" => (0, 0.0),
            "_bucket" => (1, le.unwrap_or(f64::NAN)),
            "_count" => (2, 0.0),
            "_sum" => (3, 0.0),
            _ => (4, 0.0),
        };
        let by = if pid == NO_PID && le.is_none() {
            set
        } else {
            let mut by_set: LabelSet = labels.iter().filter(|(n, _)| n != "le").cloned().collect();
            if pid != NO_PID {
                by_set.push(("pid".to_owned(), interned.pids.items[pid as usize].clone()));
                by_set.sort();
            }
            interned.sets.id(&interned.hasher, pairs_of(&by_set))
        };
        out.push(Out { by, rank, bound, name: OutName::Sample(sample), set, pid, le: None, value });
    }

    // Order label sets by content once, then sort by integers.
    let mut used: Vec<u32> = out.iter().map(|o| o.by).collect();
    used.sort_unstable();
    used.dedup();
    let sets = &interned.sets.items;
    used.sort_by(|a, b| sets[*a as usize].cmp(&sets[*b as usize]));
    ranks.resize(sets.len(), 0);
    for (rank, set) in used.iter().enumerate() {
        ranks[*set as usize] = rank as u32;
    }
    let samples = &interned.samples.items;
    let sample_name = |n: OutName| match n {
        OutName::Sample(id) => samples[id as usize].as_str(),
        // Only one name of each kind per family: they compare equal among themselves.
        OutName::Bucket => "_bucket",
        OutName::Count => "_count",
    };
    out.sort_by(|a, b| {
        ranks[a.by as usize]
            .cmp(&ranks[b.by as usize])
            .then(a.rank.cmp(&b.rank))
            .then(a.bound.total_cmp(&b.bound))
            .then_with(|| sample_name(a.name).cmp(sample_name(b.name)))
    });
    out
}

impl RawMerge {
    /// Calls `f` with each sample of `family` as (name suffix, label names, label values,
    /// value), labels sorted by name.
    fn for_each_sample(
        &self,
        family: u32,
        samples: &[Out],
        mut f: impl FnMut(&str, &[&str], &[&str], f64) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let it = &self.interned;
        let family_name = it.families.items[family as usize].as_str();
        let (mut names, mut values): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for o in samples {
            let suffix = match o.name {
                OutName::Sample(id) => {
                    let n = it.samples.items[id as usize].as_str();
                    // Checked when the key was read: every sample name starts with its family's.
                    n.strip_prefix(family_name).unwrap_or(n)
                }
                OutName::Bucket => "_bucket",
                OutName::Count => "_count",
            };
            names.clear();
            values.clear();
            for (n, v) in &it.sets.items[o.set as usize] {
                names.push(n);
                values.push(v);
            }
            let extra = if o.pid != NO_PID {
                Some(("pid", it.pids.items[o.pid as usize].as_str()))
            } else {
                o.le.map(|(start, len)| ("le", &it.texts[start as usize..(start + len) as usize]))
            };
            if let Some((n, v)) = extra {
                let at = names.partition_point(|m| *m < n);
                names.insert(at, n);
                values.insert(at, v);
            }
            f(suffix, &names, &values, o.value)?;
        }
        Ok(())
    }

    fn into_merged(self) -> Merged {
        let mut families = Vec::with_capacity(self.families.len());
        for (family, metric_type, samples) in &self.families {
            let name = &self.interned.families.items[*family as usize];
            // The name was checked when its keys were read.
            let Ok(mut merged) = MetricFamily::new(name, MP_METRIC_HELP, *metric_type) else { continue };
            // A counter's `_total` is stripped from the family name: suffixes follow it.
            let extra = &name[merged.name().len()..];
            let extra = extra.to_owned();
            let _ = self.for_each_sample(*family, samples, |suffix, names, values, value| {
                let pairs: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().copied()).collect();
                let suffix = if extra.is_empty() { suffix.to_owned() } else { format!("{extra}{suffix}") };
                merged.add_sample(OwnedSample::new(suffix, &pairs, value));
                Ok(())
            });
            families.push(merged);
        }
        Merged { families, errors: self.errors }
    }

    /// Hands every family and sample to `sink`, without copying them into owned samples.
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        for (family, metric_type, samples) in &self.families {
            let name = self.interned.families.items[*family as usize].as_str();
            let desc = Desc { name, help: MP_METRIC_HELP, unit: "", metric_type: *metric_type };
            sink.family(&desc)?;
            self.for_each_sample(*family, samples, |suffix, names, values, value| {
                sink.sample(&desc, &Sample::new(suffix, Labels::new(names, values), Value::Float(value)))
            })?;
        }
        Ok(())
    }
}

/// Merges the given files (Python's `MultiProcessCollector.merge`). With `accumulate`,
/// histogram buckets are made cumulative and `_count` is added, as the exposition needs; without
/// it, bucket counts stay per bucket (for writing a merge back into files).
///
/// Where Python's result would depend on the order of the files, this one does not: a gauge in
/// `max` or `min` mode ignores NaN values unless every process has NaN, and prefers `0.0`
/// (`max`) or `-0.0` (`min`) when both are there. A bucket bound written both as `0.0` and
/// `-0.0` (by different writers) is one bucket, spelled as in the first file by name.
pub fn merge_files<P: AsRef<Path>>(files: &[P], accumulate: bool) -> Merged {
    merge_raw(files, accumulate).into_merged()
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
        let merged = match self.files() {
            Ok(files) => merge_raw(&files, true),
            Err(e) => {
                log::warn!("multiprocess: {e}");
                return Ok(());
            }
        };
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
/// `pid` is the process's identifier as its file names spell it; one that is not a plain
/// file-name component (empty, `.`, `..`, or containing `/` or NUL) could name a file outside
/// `dir` and is refused with [`MultiProcessError::InvalidPid`].
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
    let pid = pid.to_string();
    if pid.is_empty()
        || pid == "."
        || pid == ".."
        || pid.chars().any(|c| c == '\0' || std::path::is_separator(c))
    {
        return Err(MultiProcessError::InvalidPid(pid));
    }
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
