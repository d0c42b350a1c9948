//! Numbers and words for people: durations, sizes, counts. A leaf: every module may use it,
//! it uses nothing of parity's.

/// Formats milliseconds for people: `850 ms`, `1.25 s`.
pub fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Formats KiB for people: `812 KiB`, `52.1 MiB`.
pub fn format_kib(kib: u64) -> String {
    human_bytes(kib.saturating_mul(1024))
}

/// Sizes for people: `812 B`, `4 KiB`, `64.0 MiB`, `1.00 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB {
        format!("{bytes} B")
    } else if bytes < KIB * KIB {
        format!("{} KiB", bytes / KIB)
    } else if bytes < KIB * KIB * KIB {
        format!("{:.1} MiB", bytes as f64 / (KIB * KIB) as f64)
    } else {
        format!("{:.2} GiB", bytes as f64 / (KIB * KIB * KIB) as f64)
    }
}

/// `1 difference`, `3 differences`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if noun.ends_with('s') || noun.ends_with('x') || noun.ends_with("ch") {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}
