//! Prometheus text 0.0.4 parser on arbitrary input: never panics, and an error names a line of
//! the input and says something.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promstack_alloc::parse_text;

fuzz_target!(|data: &[u8]| {
    // The parser takes `&str` only; invalid UTF-8 is still worth parsing once repaired, since the
    // replacement characters land where the fuzzer put odd bytes.
    let input = String::from_utf8_lossy(data);
    if let Err(e) = parse_text(&input) {
        let lines = input.split('\n').count();
        assert!((1..=lines).contains(&e.line), "error on line {} of {lines}: {e}", e.line);
        assert!(!e.to_string().is_empty());
    }
});
