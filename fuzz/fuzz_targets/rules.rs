//! Fuzzes the rule path parser and the configuration parser: `cargo fuzz run -s none rules`.
//! A path that parses prints back to a path that parses to the same thing, and matches itself;
//! configuration text never panics the loader.
#![no_main]

use parity::diff::JsonPath;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = JsonPath::parse(text) {
        let printed = path.to_string();
        let again = JsonPath::parse(&printed).expect("a printed path parses");
        assert_eq!(again, path, "{text:?} printed as {printed:?}");
        if !path.is_pattern() {
            assert!(path.matches(path.segments()), "{printed} does not match itself");
        }
    }
    let _ = parity::config::parse(std::path::Path::new("/nonexistent/parity.toml"), text);
});
