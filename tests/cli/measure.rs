//! Peak RSS is the side's own: within 5% of GNU time's figure, even while parity itself holds
//! several hundred MiB (which a naive spawn would add to every child's `ru_maxrss`).

use std::path::Path;
use std::process::Command;

use crate::support::{Project, assert_exit, helper, parity};

const GNU_TIME: &str = "/usr/bin/time";

/// GNU time's maximum resident set size (KiB) for the helper allocating `mib`.
fn gnu_time_kib(mib: u32) -> u64 {
    assert!(
        Path::new(GNU_TIME).is_file(),
        "GNU time is needed at {GNU_TIME} (Debian package `time`; .ci/run installs it)"
    );
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(GNU_TIME)
        .args(["-f", "%M", "python3"])
        .arg(helper())
        .arg(out.path())
        .args(["alloc", &mib.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time printed {text:?}"))
}

fn parity_kib(project: &Project, ballast_mib: u32) -> (u64, u64) {
    let output = parity()
        .current_dir(project.path())
        .env("PARITY_TEST_BALLAST_MIB", ballast_mib.to_string())
        .args(["run", "--jobs", "1"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let big = project.case("alloc");
    let small = project.case("small");
    (
        big["legacy"]["peak_rss_kib"].as_u64().unwrap(),
        small["legacy"]["peak_rss_kib"].as_u64().unwrap(),
    )
}

#[test]
fn peak_rss_matches_gnu_time_even_when_parity_is_large() {
    let project = Project::new("");
    project
        .fixture("alloc", &["alloc", "200"], &["alloc", "200"])
        .fixture("small", &["alloc", "1"], &["alloc", "1"]);
    let reference = gnu_time_kib(200);
    for ballast in [0, 600] {
        let (measured, small) = parity_kib(&project, ballast);
        let ratio = measured as f64 / reference as f64;
        assert!(
            (0.95..=1.05).contains(&ratio),
            "with {ballast} MiB in parity: measured {measured} KiB, GNU time {reference} KiB (ratio {ratio:.3})"
        );
        assert!(
            small < 64 * 1024,
            "with {ballast} MiB in parity a 1 MiB side reported {small} KiB"
        );
    }
    let floor = project.results()["measurement"]["helper_floor_kib"]
        .as_u64()
        .unwrap();
    assert!(floor < 16 * 1024, "the helper's own floor is {floor} KiB");
}
