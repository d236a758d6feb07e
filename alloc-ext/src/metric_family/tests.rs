//! Unit tests of the owned families; Python-ported cases live in `tests/tests/roundtrip_families.rs`.
