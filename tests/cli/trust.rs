//! The trust suite: sides that try, on purpose, to fool the gate or make it lose what it found
//! (PRODUCT.md, "Trust: what a gate must never do"). Each test provokes one row of that list
//! with real child processes and checks the verdict, the exit code, that results.json is
//! complete, and that no process of the sides survives (every side's long-running process is a
//! copy of `sleep` under a name unique to the test, looked for in `/proc`).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{assert_exit, parity, stderr, stdout};

/// A project whose sides are shell scripts: `$1` is `{out}`, `$2` the fixture, `$3` a copy of
/// `sleep` named after the test (so its survivors can be found by name).
struct Scripted {
    dir: TempDir,
    /// The sleeper's process name.
    name: String,
}

impl Scripted {
    fn new(legacy: &str, candidate: &str, extra: &str) -> Self {
        Self::with_timeout(legacy, candidate, "20s", extra)
    }

    fn with_timeout(legacy: &str, candidate: &str, timeout: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = format!("pt{:08x}", fastrand_u32());
        let sleeper = dir.path().join(&name);
        std::fs::copy(sleep_binary(), &sleeper).expect("copy sleep");
        let side = |which: &str, script: &str| {
            format!(
                "[{which}]\ncmd = [\"sh\", \"-c\", '''{script}''', \"side\", \"{{out}}\", \"{{fixture}}\", {sleeper:?}]\ntimeout = \"{timeout}\"\n"
            )
        };
        let config = format!(
            "{}{}\n[suites.main]\nroot = \"fixtures\"\ninclude = [\"*.json\"]\n\n{extra}",
            side("legacy", legacy),
            side("candidate", candidate),
        );
        std::fs::create_dir(dir.path().join("fixtures")).expect("fixtures dir");
        std::fs::write(dir.path().join("parity.toml"), config).expect("config");
        let project = Scripted { dir, name };
        project.fixture("case");
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn fixture(&self, id: &str) -> &Self {
        std::fs::write(self.path().join(format!("fixtures/{id}.json")), "{}").expect("fixture");
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("parity"));
        command
            .current_dir(self.path())
            .env_remove("CI")
            .env_remove("PARITY_CONFIG")
            .env("NO_COLOR", "1")
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = parity()
            .current_dir(self.path())
            .arg("run")
            .args(args)
            .output()
            .expect("parity runs");
        self.assert_no_survivors();
        output
    }

    fn report(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join("reports/latest").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    fn results(&self) -> Value {
        serde_json::from_str(&self.report("results.json")).expect("results.json is JSON")
    }

    fn case(&self, id: &str) -> Value {
        crate::support::case_in(&self.results(), id)
    }

    /// Processes running under the sleeper's name.
    fn survivors(&self) -> Vec<u32> {
        processes_named(&self.name)
    }

    /// Waits up to two seconds for the sleepers to go, then fails naming those left.
    #[track_caller]
    fn assert_no_survivors(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.survivors().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = self.survivors();
        assert!(left.is_empty(), "processes of the sides survived: {left:?}");
    }

    /// Waits until `count` sleepers run.
    #[track_caller]
    fn wait_for_sleepers(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.survivors().len() < count {
            assert!(Instant::now() < deadline, "the sides never started");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        // Never leave a sleeper behind, whatever a test asserted.
        for pid in self.survivors() {
            // SAFETY: signalling a process this test started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn sleep_binary() -> PathBuf {
    ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("sleep(1) is installed")
}

fn fastrand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

/// Pids of live processes whose kernel name is `name`.
fn processes_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
                && crate::support::alive(*pid)
        })
        .collect()
}

/// Pids of live measuring helpers working in `dir`.
fn helpers_in(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = dir.to_string_lossy().into_owned();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let text = String::from_utf8_lossy(&c);
                text.contains("__measure") && text.contains(&needle)
            }) && crate::support::alive(*pid)
        })
        .collect()
}

fn kinds(output: &Value) -> Vec<String> {
    output["differences"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| d["kind"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn output_named<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["outputs"]
        .as_array()
        .and_then(|outputs| outputs.iter().find(|o| o["output"] == name))
        .unwrap_or_else(|| panic!("no output {name} in {case}"))
}

/// Runs `command` as an unprivileged user when this process is root (root reads a directory
/// of mode 000, so the test would prove nothing): the project is handed to `nobody` and the
/// binary is copied where `nobody` can run it. `None`, with a printed reason, when that is
/// impossible here.
fn unprivileged(project: &Scripted, args: &[&str]) -> Option<Output> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let output = project.command(args).output().expect("parity runs");
        return Some(output);
    }
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.is_file() {
        eprintln!("skipped: running as root and setpriv(1) is not installed to drop privileges");
        return None;
    }
    let binary = project.path().join("parity-bin");
    std::fs::copy(assert_cmd::cargo::cargo_bin("parity"), &binary).expect("copy parity");
    let (uid, gid) = (65534, 65534);
    chown_tree(project.path(), uid, gid);
    let mut dir = project.path().to_owned();
    while let Some(parent) = dir.parent() {
        // Every parent must be traversable; temporary directories are.
        let mode = std::fs::metadata(parent).map(|m| m.permissions().mode());
        if mode.is_ok_and(|m| m & 0o001 == 0) {
            eprintln!(
                "skipped: {} is not traversable by an unprivileged user",
                parent.display()
            );
            return None;
        }
        dir = parent.to_owned();
    }
    let output = Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&binary)
        .args(args)
        .current_dir(project.path())
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .env("HOME", project.path())
        .output()
        .expect("setpriv runs");
    if stderr(&output).contains("setpriv:") {
        eprintln!(
            "skipped: setpriv could not drop privileges: {}",
            stderr(&output)
        );
        return None;
    }
    Some(output)
}

fn chown_tree(root: &Path, uid: u32, gid: u32) {
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.expect("walk");
        std::os::unix::fs::lchown(entry.path(), Some(uid), Some(gid)).expect("chown");
    }
}

#[test]
fn a_directory_the_candidate_cannot_list_fails_the_case() {
    let project = Scripted::new(
        r#"mkdir "$1/locked" && echo '{"a": 1}' > "$1/locked/data.json""#,
        r#"mkdir "$1/locked" && echo '{"a": 1}' > "$1/locked/data.json" && chmod 000 "$1/locked""#,
        "",
    );
    let Some(output) = unprivileged(&project, &["run"]) else {
        return;
    };
    assert_exit(&output, 1);
    let case = project.case("case");
    assert_eq!(case["verdict"]["kind"], "different");
    let locked = output_named(&case, "locked");
    assert_eq!(kinds(locked), ["unreadable"]);
    let note = locked["differences"][0]["note"].as_str().unwrap();
    assert!(
        note.contains("candidate") && note.contains("Permission denied"),
        "{note}"
    );
    // The file inside is then the legacy's alone: also a difference, never a pass.
    assert_eq!(
        kinds(output_named(&case, "locked/data.json")),
        ["missing_file"]
    );
}

#[test]
fn text_that_is_not_utf8_is_compared_byte_for_byte_and_shown_escaped() {
    let project = Scripted::new(
        r#"printf 'caf\351\n' > "$1/menu.txt"; printf 'caf\351\n'"#,
        r#"printf 'caf\350\n' > "$1/menu.txt"; printf 'caf\350\n'"#,
        "[[compare]]\noutput = \"stdout\"\nformat = \"text\"\n",
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("case");
    for name in ["stdout", "menu.txt"] {
        let compared = output_named(&case, name);
        assert_eq!(compared["status"], "different", "{compared}");
        let d = &compared["differences"][0];
        assert_eq!(d["left"], "caf\\xe9");
        assert_eq!(d["right"], "caf\\xe8");
    }
    // report.md quotes values as JSON, so the backslash shows doubled.
    assert!(project.report("report.md").contains(r#""caf\\xe9""#));
}

#[test]
fn a_duplicate_json_member_is_a_finding() {
    let project = Scripted::new(
        r#"echo '{"x":1,"x":2,"y":3}' > "$1/result.json""#,
        r#"echo '{"x":2,"y":3}' > "$1/result.json""#,
        "",
    );
    assert_exit(&project.run(&[]), 1);
    let case = project.case("case");
    let compared = output_named(&case, "result.json");
    assert_eq!(kinds(compared), ["duplicate_key"]);
    assert_eq!(compared["differences"][0]["path"], "$.x");
    let diff = parity()
        .current_dir(project.path())
        .args([
            "diff",
            "reports/latest/outputs/main/case.json/legacy/out/result.json",
        ])
        .arg("reports/latest/outputs/main/case.json/candidate/out/result.json")
        .output()
        .unwrap();
    assert_exit(&diff, 1);
    assert!(stdout(&diff).contains("duplicate_key"), "{}", stdout(&diff));
}

/// Runs `args` with stdout closed before parity writes a byte, as `| head -c 0` does.
fn with_closed_stdout(command: &mut Command) -> i32 {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("parity starts");
    drop(child.stdout.take());
    child.wait().expect("parity ends").code().unwrap_or(-1)
}

#[test]
fn a_closed_stdout_never_changes_the_exit_code() {
    let project = Scripted::new(
        r#"echo '{"a": 1}' > "$1/result.json""#,
        r#"echo '{"a": 2}' > "$1/result.json""#,
        "",
    );
    for args in [&["run"][..], &["run", "--format", "json"]] {
        assert_eq!(
            with_closed_stdout(&mut project.command(args)),
            1,
            "{args:?}"
        );
    }
    let out = "reports/latest/outputs/main/case.json";
    let left = format!("{out}/legacy/out/result.json");
    let right = format!("{out}/candidate/out/result.json");
    for format in ["human", "json"] {
        let code =
            with_closed_stdout(&mut project.command(&["diff", &left, &right, "--output", format]));
        assert_eq!(code, 1, "diff --output {format}");
    }
    let code = with_closed_stdout(&mut project.command(&[
        "report",
        "reports/latest/results.json",
        "--format",
        "md",
    ]));
    assert_eq!(code, 0);
    // And what `head -c 10` sees: the start of results.json, then the verdict.
    let mut child = project
        .command(&["run", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut start = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut start)
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert_eq!(&start[..1], b"{");
    project.assert_no_survivors();
}

/// A run of a quick case and two that sleep, stopped by `signal` once they all run.
fn interrupted_by(signal: libc::c_int) -> Scripted {
    let project = Scripted::new(
        r#"case "$2" in *quick*) echo '{}' > "$1/r.json";; *) "$3" 1000;; esac"#,
        r#"case "$2" in *quick*) echo '{}' > "$1/r.json";; *) "$3" 1000;; esac"#,
        "",
    );
    std::fs::remove_file(project.path().join("fixtures/case.json")).unwrap();
    project
        .fixture("a-quick")
        .fixture("b-slow")
        .fixture("c-slow");
    let mut child = project
        .command(&["run", "--jobs", "6"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    project.wait_for_sleepers(4);
    let quick_done = project
        .path()
        .join("reports/latest/outputs/main/a-quick.json");
    let deadline = Instant::now() + Duration::from_secs(10);
    while quick_done.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(2), "signal {signal}");
    let mut message = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut message)
        .unwrap();
    assert!(message.contains("interrupted"), "{message}");
    project.assert_no_survivors();
    project
}

#[test]
fn sigterm_and_sighup_stop_a_run_like_ctrl_c() {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        let project = interrupted_by(signal);
        let results = project.results();
        assert_eq!(results["interrupted"], true);
        assert_eq!(results["cases"].as_array().unwrap().len(), 1);
        assert_eq!(results["cases"][0]["fixture"], "a-quick.json");
        let not_run: Vec<&str> = results["not_run"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["fixture"].as_str().unwrap())
            .collect();
        assert_eq!(not_run, ["b-slow.json", "c-slow.json"]);
        let junit = project.report("junit.xml");
        assert_eq!(junit.matches("<skipped").count(), 2, "{junit}");
        assert!(
            project
                .report("report.md")
                .contains("not run (interrupted)")
        );
    }
}

#[test]
fn helpers_and_sides_die_with_a_killed_parity() {
    let project = Scripted::new(r#""$3" 1000"#, r#""$3" 1000"#, "");
    let mut child = project
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    project.wait_for_sleepers(2);
    assert!(!helpers_in(project.path()).is_empty(), "no helper found");
    child.kill().unwrap();
    child.wait().unwrap();
    project.assert_no_survivors();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !helpers_in(project.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(helpers_in(project.path()), Vec::<u32>::new());
}

#[test]
fn a_grandchild_that_left_the_process_group_is_killed_and_stdout_is_kept() {
    // The candidate's grandchild leaves the group (setsid) and holds stdout open.
    let project = Scripted::new(
        r#"echo '{"done": true}'"#,
        r#"setsid "$3" 1000 & sleep 0.5; echo '{"done": true}'"#,
        "[[compare]]\noutput = \"stdout\"\nformat = \"json\"\n",
    );
    let started = Instant::now();
    let output = project.run(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert_exit(&output, 0);
    let case = project.case("case");
    assert_eq!(output_named(&case, "stdout")["status"], "identical");
    let notes = case["candidate"]["notes"].to_string();
    assert!(
        notes.contains(&project.name) && notes.contains("outside its process group"),
        "{notes}"
    );
}

#[test]
fn a_timed_out_side_leaves_no_escaped_descendant() {
    let project = Scripted::with_timeout(
        r#"echo '{}' > "$1/r.json""#,
        r#"setsid "$3" 1000 & "$3" 1000"#,
        "1s",
        "",
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let case = project.case("case");
    assert_eq!(case["verdict"]["kind"], "timeout");
    let notes = case["candidate"]["notes"].to_string();
    assert!(notes.contains("outside its process group"), "{notes}");
}

#[test]
fn links_are_compared_as_links_and_special_files_are_findings() {
    let project = Scripted::new(
        r#"echo 'plain data' > "$1/data.txt"; echo x > "$1/pipe"; ln -s one "$1/link""#,
        r#"ln -s /etc/passwd "$1/data.txt"; mkfifo "$1/pipe"; ln -s two "$1/link""#,
        "",
    );
    assert_exit(&project.run(&[]), 1);
    let case = project.case("case");
    let data = output_named(&case, "data.txt");
    assert_eq!(kinds(data), ["type_changed"]);
    assert_eq!(data["differences"][0]["right"]["symlink"], "/etc/passwd");
    assert_eq!(kinds(output_named(&case, "pipe")), ["special_file"]);
    let link = output_named(&case, "link");
    assert_eq!(link["differences"][0]["left"]["symlink"], "one");
    assert_eq!(link["differences"][0]["right"]["symlink"], "two");
    for report in ["results.json", "report.md", "junit.xml"] {
        assert!(
            !project.report(report).contains("root:x:0:0"),
            "{report} followed the link"
        );
    }
}

#[test]
fn reports_stay_inert_whatever_the_sides_print() {
    // U+FFFE in a value, ANSI escapes (clear screen, window title) on stderr.
    let project = Scripted::new(
        r#"printf '{"v": "ok"}' > "$1/r.json""#,
        r#"printf '{"v": "\357\277\276 \\u001b[31mred"}' > "$1/r.json"; printf '\033[2J\033]0;owned\007boom\n' >&2; exit 3"#,
        "",
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
        ])
        .arg(project.path().join("reports/latest/junit.xml"))
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "junit.xml does not parse: {}",
        stderr(&parsed)
    );
    let md = project.report("report.md");
    let rerendered = parity()
        .current_dir(project.path())
        .args(["report", "reports/latest/results.json", "--format", "md"])
        .output()
        .unwrap();
    for (what, text) in [
        ("report.md", md.as_str()),
        ("parity report --format md", &stdout(&rerendered)),
        ("the terminal", &stdout(&output)),
        ("junit.xml", &project.report("junit.xml")),
    ] {
        assert!(!text.contains('\u{1b}'), "{what} holds a raw escape");
        assert!(!text.contains('\u{7}'), "{what} holds a raw BEL");
        assert!(!text.contains('\u{fffe}'), "{what} holds U+FFFE");
    }
    assert!(md.contains("\\x1b[2J"), "the escape is shown, not dropped");
    // Reports are build artefacts: readable by all.
    for report in ["results.json", "report.md", "junit.xml"] {
        let mode = std::fs::metadata(project.path().join("reports/latest").join(report))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{report}");
    }
}

#[test]
fn too_few_file_descriptors_is_never_a_difference() {
    let project = Scripted::new(
        r#"echo '{"a": 1}' > "$1/r.json"; echo out"#,
        r#"echo '{"a": 1}' > "$1/r.json"; echo out"#,
        "[[compare]]\noutput = \"stdout\"\nformat = \"text\"\n",
    );
    for i in 0..12 {
        project.fixture(&format!("f{i}"));
    }
    let binary = assert_cmd::cargo::cargo_bin("parity");
    for limit in [40, 24, 12] {
        let _ = std::fs::remove_dir_all(project.path().join("reports"));
        let output = Command::new("sh")
            .args([
                "-c",
                &format!("ulimit -n {limit} && exec \"$0\" run --jobs 16"),
            ])
            .arg(&binary)
            .current_dir(project.path())
            .env("NO_COLOR", "1")
            .env_remove("CI")
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(
            matches!(code, Some(0) | Some(2)),
            "ulimit {limit}: {output:?}"
        );
        if !project.path().join("reports/latest/results.json").exists() {
            // Too few to even start: parity's own error, said so, exit 2.
            assert_eq!(code, Some(2));
            assert!(
                stderr(&output).contains("Too many open files"),
                "{output:?}"
            );
            continue;
        }
        let results = project.results();
        for case in results["cases"].as_array().unwrap() {
            let verdict = case["verdict"]["kind"].as_str().unwrap();
            assert!(
                verdict == "identical" || verdict == "error",
                "ulimit {limit}: {verdict} is blamed on the programs: {case}"
            );
        }
        if limit == 40 {
            assert_eq!(code, Some(0), "{}", stderr(&output));
            assert!(
                stderr(&output).contains("file descriptors"),
                "{}",
                stderr(&output)
            );
        }
    }
    project.assert_no_survivors();
}

#[test]
fn a_golden_never_changes_when_its_log_cannot_be_written() {
    let project = Scripted::new(
        r#"echo '{"v": 1}' > "$1/r.json""#,
        r#"echo '{"v": 1}' > "$1/r.json""#,
        "",
    );
    assert_exit(&project.command(&["golden", "record"]).output().unwrap(), 0);
    let golden = project.path().join("golden/main/case.json/out/r.json");
    let before = std::fs::read(&golden).unwrap();
    project.edit_sides(r#"echo '{"v": 2}' > "$1/r.json""#);
    // A log that cannot take a line: a full disk (works as root too).
    let log = project.path().join("golden/review-log.jsonl");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink("/dev/full", &log).unwrap();
    let output = project.command(&["golden", "record"]).output().unwrap();
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("logged first"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(&golden).unwrap(),
        before,
        "the golden changed unaudited"
    );
    project.assert_no_survivors();
}

impl Scripted {
    /// Makes both sides run `script` from now on.
    fn edit_sides(&self, script: &str) {
        let path = self.path().join("parity.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let edited: Vec<String> = text
            .lines()
            .map(|line| match line.split_once("'''") {
                Some((head, rest)) if line.starts_with("cmd = ") => {
                    let tail = rest.split_once("'''").map_or("", |(_, t)| t);
                    format!("{head}'''{script}'''{tail}")
                }
                _ => line.to_owned(),
            })
            .collect();
        std::fs::write(path, edited.join("\n")).unwrap();
    }
}

#[test]
fn an_interrupted_run_leaves_whole_cases_and_runs_a_cases_sides_together() {
    let starts = "starts.log";
    let script = format!(r#"echo "$(basename "$2")" >> {starts}; "$3" 1000"#);
    let project = Scripted::new(&script, &script, "");
    std::fs::remove_file(project.path().join("fixtures/case.json")).unwrap();
    project.fixture("a").fixture("b").fixture("c");
    let mut child = project
        .command(&["run", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    project.wait_for_sleepers(2);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(2));
    project.assert_no_survivors();
    let started = std::fs::read_to_string(project.path().join(starts)).unwrap();
    let first_two: Vec<&str> = started.lines().take(2).collect();
    assert_eq!(
        first_two,
        ["a.json", "a.json"],
        "a case's two sides start together"
    );
    let results = project.results();
    let errors: Vec<&Value> = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"]["kind"] == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "an interrupted case is not an error: {errors:?}"
    );
    let cases = results["cases"].as_array().unwrap().len();
    let not_run = results["not_run"].as_array().unwrap().len();
    assert_eq!(cases + not_run, 3);
    assert_eq!(
        project.report("junit.xml").matches("<skipped").count(),
        not_run
    );
}

#[test]
fn the_terminal_says_where_each_count_of_differences_lives() {
    let project = Scripted::new(
        r#"echo "[$(seq -s, 1 100)]" > "$1/r.json""#,
        r#"echo "[$(seq -s, 1001 1100)]" > "$1/r.json""#,
        "[report]\nmax_differences = 70\n",
    );
    let output = project.run(&[]);
    assert_exit(&output, 1);
    let text = stdout(&output);
    assert!(
        text.contains("more (report.md lists 50; results.json holds the first 70 of 100"),
        "{text}"
    );
}

/// A `version_cmd` still running when parity is killed with SIGKILL dies with it (its death
/// signal), like the sides and their helpers.
#[test]
fn a_version_cmd_dies_with_a_killed_parity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fx")).unwrap();
    std::fs::write(dir.path().join("fx/a.json"), "{}").unwrap();
    std::fs::write(
        dir.path().join("parity.toml"),
        "[legacy]\ncmd = [\"true\"]\nversion_cmd = [\"sh\", \"-c\", \"echo $$ > version.pid; exec sleep 60\"]\n\
         [candidate]\ncmd = [\"true\"]\n[suites.s]\nroot = \"fx\"\ninclude = [\"*\"]\n",
    )
    .unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("parity"))
        .current_dir(dir.path())
        .env_remove("CI")
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pidfile = dir.path().join("version.pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "version_cmd never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(crate::support::alive(pid));
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while crate::support::alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !crate::support::alive(pid),
        "version_cmd {pid} outlived parity"
    );
}
