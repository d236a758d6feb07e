//! The key of one value in a multiprocess file: Python's
//! `json.dumps([metric_name, sample_name, {label: value, ...}], sort_keys=True)`, byte for byte.
//!
//! Writers in different languages must spell a key identically, because a process looks its own
//! entries up by the exact bytes; readers parse the JSON back, so they accept any valid spelling.
//! The format is narrow (an array of two strings and an object of strings), so this module has its
//! own small encoder and decoder instead of a general JSON library.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Builds the key Python 0.8.0's `mmap_key` builds: labels sorted by name, separators `", "` and
/// `": "`, every character outside printable ASCII escaped as `\uXXXX` (a surrogate pair above
/// U+FFFF), as `json.dumps` does with its default `ensure_ascii=True`.
///
/// `label_names` and `label_values` are parallel; extra values are ignored.
///
/// ```
/// use promstack::multiprocess::mmap_key;
/// assert_eq!(mmap_key("c", "c_total", &[], &[]), r#"["c", "c_total", {}]"#);
/// assert_eq!(
///     mmap_key("h", "h_bucket", &["z", "le"], &["é😀", "0.5"]),
///     r#"["h", "h_bucket", {"le": "0.5", "z": "\u00e9\ud83d\ude00"}]"#
/// );
/// ```
pub fn mmap_key(metric_name: &str, sample_name: &str, label_names: &[&str], label_values: &[&str]) -> String {
    let mut pairs: Vec<(&str, &str)> =
        label_names.iter().copied().zip(label_values.iter().copied()).collect();
    // Python builds a dict first: a repeated name keeps its last value (names are unique here).
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 = later.1;
            true
        } else {
            false
        }
    });
    let mut out = String::with_capacity(16 + metric_name.len() + sample_name.len() + 8 * pairs.len());
    out.push('[');
    push_json_str(&mut out, metric_name);
    out.push_str(", ");
    push_json_str(&mut out, sample_name);
    out.push_str(", {");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_str(&mut out, name);
        out.push_str(": ");
        push_json_str(&mut out, value);
    }
    out.push_str("}]");
    out
}

/// Appends `s` as a JSON string the way Python's `json.dumps` (ensure_ascii) writes it.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing into a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A parsed key: metric (family) name, sample name and label pairs sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The family name (counters: without `_total`).
    pub metric_name: String,
    /// The full sample name (`x_total`, `x_bucket`, `x_sum`, `x`, ...).
    pub sample_name: String,
    /// Label pairs, sorted by name, names unique.
    pub labels: Vec<(String, String)>,
}

/// Parses a key written by any client: a JSON array of the metric name, the sample name and an
/// object of label strings. Anything else is an error naming what was expected.
///
/// ```
/// use promstack::multiprocess::parse_key;
/// let k = parse_key(r#"["h", "h_bucket", {"le": "0.5", "z": "\u00e9\ud83d\ude00"}]"#).unwrap();
/// assert_eq!(k.metric_name, "h");
/// assert_eq!(k.labels, [("le".to_string(), "0.5".to_string()), ("z".to_string(), "é😀".to_string())]);
/// assert!(parse_key(r#"["h", 1, {}]"#).is_err());
/// ```
pub fn parse_key(key: &str) -> Result<Key, &'static str> {
    let mut labels = Vec::new();
    let (metric_name, sample_name) = parse_key_into(key, &mut labels)?;
    Ok(Key {
        metric_name: metric_name.into_owned(),
        sample_name: sample_name.into_owned(),
        labels: labels.into_iter().map(|(n, v)| (n.into_owned(), v.into_owned())).collect(),
    })
}

/// [`parse_key`] without copying what needs no unescaping: returns the metric and sample
/// names and replaces `labels` with the label pairs, sorted by name, names unique.
pub(crate) fn parse_key_into<'a>(
    key: &'a str,
    labels: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
) -> Result<(Cow<'a, str>, Cow<'a, str>), &'static str> {
    labels.clear();
    let mut p = Parser { s: key.as_bytes(), pos: 0 };
    p.ws();
    p.expect(b'[', "expected '[' at the start of the key")?;
    p.ws();
    let metric_name = p.string()?;
    p.ws();
    p.expect(b',', "expected ',' after the metric name")?;
    p.ws();
    let sample_name = p.string()?;
    p.ws();
    p.expect(b',', "expected ',' after the sample name")?;
    p.ws();
    p.expect(b'{', "expected a label object")?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.pos += 1;
    } else {
        loop {
            p.ws();
            let name = p.string()?;
            p.ws();
            p.expect(b':', "expected ':' after a label name")?;
            p.ws();
            let value = p.string()?;
            // As a Python dict: a repeated name keeps the last value.
            match labels.iter_mut().find(|(n, _)| *n == name) {
                Some(pair) => pair.1 = value,
                None => labels.push((name, value)),
            }
            p.ws();
            match p.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err("expected ',' or '}' in the label object"),
            }
        }
    }
    p.ws();
    p.expect(b']', "expected ']' at the end of the key")?;
    p.ws();
    if p.pos != p.s.len() {
        return Err("unexpected text after the key");
    }
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((metric_name, sample_name))
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, why: &'static str) -> Result<(), &'static str> {
        if self.next() == Some(c) {
            Ok(())
        } else {
            Err(why)
        }
    }

    fn hex4(&mut self) -> Result<u16, &'static str> {
        let digits = self.s.get(self.pos..self.pos + 4).ok_or("truncated \\u escape")?;
        let text = std::str::from_utf8(digits).map_err(|_| "bad \\u escape")?;
        let v = u16::from_str_radix(text, 16).map_err(|_| "bad \\u escape")?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<Cow<'a, str>, &'static str> {
        self.expect(b'"', "expected a string")?;
        // Most strings have no escape: borrow them.
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
            self.pos += 1;
        }
        if self.peek() == Some(b'"') {
            let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| "invalid UTF-8")?;
            self.pos += 1;
            return Ok(Cow::Borrowed(text));
        }
        self.pos = start;
        self.escaped_string().map(Cow::Owned)
    }

    /// The rest of a string (after its opening quote) that has escapes.
    fn escaped_string(&mut self) -> Result<String, &'static str> {
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character at once.
            let start = self.pos;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.pos += 1;
            }
            // The input is a &str and the run stops at ASCII bytes, so it is valid UTF-8.
            out.push_str(std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| "invalid UTF-8")?);
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {}
                Some(_) => return Err("control character in a string"),
                None => return Err("unterminated string"),
            }
            match self.next() {
                Some(b'"') => out.push('"'),
                Some(b'\\') => out.push('\\'),
                Some(b'/') => out.push('/'),
                Some(b'b') => out.push('\u{8}'),
                Some(b'f') => out.push('\u{c}'),
                Some(b'n') => out.push('\n'),
                Some(b'r') => out.push('\r'),
                Some(b't') => out.push('\t'),
                Some(b'u') => {
                    let hi = self.hex4()?;
                    let c = if (0xD800..0xDC00).contains(&hi) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err("unpaired surrogate in a string");
                        }
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err("unpaired surrogate in a string");
                        }
                        let cp = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                        char::from_u32(cp).ok_or("bad surrogate pair")?
                    } else {
                        char::from_u32(u32::from(hi)).ok_or("unpaired surrogate in a string")?
                    };
                    out.push(c);
                }
                _ => return Err("bad escape in a string"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (metric, sample, label names, label values, key).
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a [&'a str], &'a str);

    /// Expected strings printed by Python 3.11 `json.dumps(..., sort_keys=True)`.
    #[test]
    fn keys_match_python() {
        let cases: &[Case<'_>] = &[
            ("c", "c_total", &[], &[], r#"["c", "c_total", {}]"#),
            ("g", "g", &["b", "a"], &["2", "1"], r#"["g", "g", {"a": "1", "b": "2"}]"#),
            (
                "a",
                "b",
                &["z", "a"],
                &["\u{7f}\u{1}\n\"\\ é😀", ""],
                r#"["a", "b", {"a": "", "z": "\u007f\u0001\n\"\\ \u00e9\ud83d\ude00"}]"#,
            ),
            ("t", "t", &["x"], &["\t\r\u{8}\u{c}/"], r#"["t", "t", {"x": "\t\r\b\f/"}]"#),
            ("u", "u", &["x"], &["\u{ffff}\u{10000}"], r#"["u", "u", {"x": "\uffff\ud800\udc00"}]"#),
        ];
        for (metric, sample, names, values, want) in cases {
            let got = mmap_key(metric, sample, names, values);
            assert_eq!(&got, want);
            let parsed = parse_key(&got).unwrap();
            assert_eq!(parsed.metric_name, *metric);
            assert_eq!(parsed.sample_name, *sample);
            let mut pairs: Vec<(String, String)> =
                names.iter().zip(values.iter()).map(|(n, v)| (n.to_string(), v.to_string())).collect();
            pairs.sort();
            assert_eq!(parsed.labels, pairs);
        }
    }

    #[test]
    fn parse_accepts_other_spellings_and_rejects_junk() {
        let k = parse_key("[\"a\",\"b\",{\"x\":\"\u{e9}\",\"x\":\"2\"}]").unwrap();
        assert_eq!(k.labels, [("x".to_string(), "2".to_string())]);
        for bad in [
            "",
            "[",
            r#"["a"]"#,
            r#"["a", "b"]"#,
            r#"["a", "b", {"x": 1}]"#,
            r#"["a", "b", {}] x"#,
            r#"["a", "b", {"x": "\ud800"}]"#,
            r#"["a", "b", {"x": "\q"}]"#,
            "[\"a\", \"b\", {\"x\": \"\u{1}\"}]",
            r#"["a", "b", {"x": "y",}]"#,
        ] {
            assert!(parse_key(bad).is_err(), "{bad:?} parsed");
        }
    }
}
