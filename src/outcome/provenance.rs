//! What the person signing off a release needs to know about where a run came from:
//! [`Provenance`], the git repository the configuration lives in (commit, branch, dirty) and who
//! ran it ([`RunBy`], with the CI job when a CI ran it). Both sides' versions are in
//! [`super::SuiteSides`], the configuration's path relative to the repository in
//! [`super::ConfigInfo`], the host in [`super::Environment`].
//!
//! The CI identity is read from the variables each CI documents: GitHub Actions (`GITHUB_ACTOR`,
//! `GITHUB_RUN_ID`, `GITHUB_RUN_ATTEMPT`, `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`), GitLab CI
//! (`GITLAB_USER_LOGIN`, `CI_JOB_ID`, `CI_JOB_URL`) and Jenkins (`BUILD_USER_ID`, `BUILD_TAG`,
//! `BUILD_URL`).

use serde::{Deserialize, Serialize};

/// Where a run came from, as it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The git repository holding the configuration; `None` outside one, or without git.
    pub repository: Option<Repository>,
    pub run_by: RunBy,
}

/// The git repository holding the configuration, as the run started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Its top-level directory.
    pub root: String,
    /// `git rev-parse HEAD`; `None` before the first commit.
    pub commit: Option<String>,
    /// The branch checked out; `None` on a detached HEAD (as CI checkouts often are).
    pub branch: Option<String>,
    /// Changes not committed or files not tracked (`git status --porcelain`), the run's report
    /// directory aside; also true when git could not tell.
    pub dirty: bool,
    /// The first [`MAX_CHANGES`] of them, as `git status --short` shows them (`M parity.toml`,
    /// `?? notes.txt`, `R new.py (from old.py)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

/// How many changed paths [`Repository::changes`] lists.
pub const MAX_CHANGES: usize = 20;

/// Who ran the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunBy {
    /// `$USER`, else `$LOGNAME`, else the account name of the process's uid, else the uid.
    pub user: String,
    /// The CI job that ran it, when a CI's variables say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiJob>,
}

/// A CI's own identity of the job that ran parity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiJob {
    /// `github-actions`, `gitlab-ci` or `jenkins`.
    pub system: String,
    /// Who started it, as the CI names them (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`).
    pub actor: Option<String>,
    /// The CI's id of the run or job (`GITHUB_RUN_ID`, `CI_JOB_ID`, `BUILD_TAG`).
    pub run_id: Option<String>,
    /// Its page (`…/actions/runs/ID`, `CI_JOB_URL`, `BUILD_URL`).
    pub url: Option<String>,
}

impl CiJob {
    /// The CI job described by the environment `var` reads (a variable that is empty counts as
    /// absent); `None` outside a CI parity knows.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Option<CiJob> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        if var("GITHUB_ACTIONS").as_deref() == Some("true") || var("GITHUB_RUN_ID").is_some() {
            return Some(CiJob {
                system: "github-actions".to_owned(),
                actor: var("GITHUB_ACTOR"),
                url: github_run_url(
                    var("GITHUB_SERVER_URL").as_deref(),
                    var("GITHUB_REPOSITORY").as_deref(),
                    var("GITHUB_RUN_ID").as_deref(),
                    var("GITHUB_RUN_ATTEMPT").as_deref(),
                ),
                run_id: var("GITHUB_RUN_ID"),
            });
        }
        if var("GITLAB_CI").as_deref() == Some("true") || var("CI_JOB_URL").is_some() {
            return Some(CiJob {
                system: "gitlab-ci".to_owned(),
                actor: var("GITLAB_USER_LOGIN"),
                run_id: var("CI_JOB_ID"),
                url: var("CI_JOB_URL"),
            });
        }
        if var("BUILD_URL").is_some() || var("JENKINS_URL").is_some() {
            return Some(CiJob {
                system: "jenkins".to_owned(),
                actor: var("BUILD_USER_ID"),
                run_id: var("BUILD_TAG"),
                url: var("BUILD_URL"),
            });
        }
        None
    }
}

/// The page of a GitHub Actions run: `SERVER/REPOSITORY/actions/runs/ID`, with
/// `/attempts/N` for a re-run; the server is github.com unless `server` says otherwise (GitHub
/// Enterprise). `None` without the repository or the run id.
pub fn github_run_url(
    server: Option<&str>,
    repository: Option<&str>,
    run_id: Option<&str>,
    attempt: Option<&str>,
) -> Option<String> {
    let server = server.unwrap_or("https://github.com").trim_end_matches('/');
    let repository = repository?.trim_matches('/');
    let run_id = run_id?;
    let mut url = format!("{server}/{repository}/actions/runs/{run_id}");
    if let Some(attempt) = attempt.filter(|a| *a != "1") {
        url.push_str("/attempts/");
        url.push_str(attempt);
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn job(vars: &[(&str, &str)]) -> Option<CiJob> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CiJob::from_env(&|name| vars.get(name).cloned())
    }

    /// Guards `parity report` on results written before provenance was recorded: the new
    /// fields are absent, not an error, and stay absent when written again.
    #[test]
    fn results_without_provenance_still_parse() {
        let old = serde_json::json!({
            "format_version": 1,
            "tool": { "name": "parity", "version": "0.1.0" },
            "started_at": "2026-11-22T10:00:00Z", "finished_at": "2026-11-22T10:00:04Z",
            "interrupted": false,
            "config": { "path": "/repo/parity.toml", "hash": "blake3:0123", "source": "" },
            "environment": { "os": "linux", "arch": "x86_64", "cpu": null, "cores": 2,
                             "kernel": null, "hostname": null },
            "measurement": { "helper_floor_kib": null },
            "selection": { "suites": ["main"], "fixtures": [], "variants": [], "jobs": 2 },
            "sides": [{ "suite": "main", "legacy": "python3 legacy.py", "own_legacy": false,
                        "candidate": "python3 -m pipeline", "own_candidate": false }],
            "cases": [], "rules": [], "waivers": [],
            "summary": { "cases": 0, "passed": 0, "failed": 0, "by_verdict": {}, "not_run": 0,
                         "exit_code": 4, "headline": "no fixture matched the selection" }
        });
        let results: crate::outcome::RunResults =
            serde_json::from_value(old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(results.provenance, None);
        assert_eq!(results.config.relative, None);
        assert_eq!(
            (
                &results.sides[0].legacy_version,
                &results.sides[0].candidate_version
            ),
            (&None, &None)
        );
        let again = serde_json::to_value(&results).unwrap_or_default();
        assert!(again.get("provenance").is_none());
        assert!(again["config"].get("relative").is_none());
    }

    #[test]
    fn github_run_urls() {
        let cases = [
            (
                (
                    Some("https://github.com"),
                    Some("acme/advisory"),
                    Some("42"),
                    Some("1"),
                ),
                Some("https://github.com/acme/advisory/actions/runs/42"),
            ),
            (
                (
                    Some("https://ghe.acme.io/"),
                    Some("acme/advisory"),
                    Some("42"),
                    Some("3"),
                ),
                Some("https://ghe.acme.io/acme/advisory/actions/runs/42/attempts/3"),
            ),
            (
                (None, Some("acme/advisory"), Some("42"), None),
                Some("https://github.com/acme/advisory/actions/runs/42"),
            ),
            ((Some("https://github.com"), None, Some("42"), None), None),
            (
                (
                    Some("https://github.com"),
                    Some("acme/advisory"),
                    None,
                    None,
                ),
                None,
            ),
        ];
        for ((server, repo, id, attempt), want) in cases {
            assert_eq!(
                github_run_url(server, repo, id, attempt).as_deref(),
                want,
                "{server:?} {repo:?} {id:?} {attempt:?}"
            );
        }
    }

    #[test]
    fn each_ci_names_its_job() {
        assert_eq!(job(&[]), None);
        assert_eq!(job(&[("CI", "true")]), None, "a CI parity cannot name");
        assert_eq!(
            job(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_ACTOR", "octocat"),
                ("GITHUB_RUN_ID", "1234"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "acme/advisory"),
            ]),
            Some(CiJob {
                system: "github-actions".into(),
                actor: Some("octocat".into()),
                run_id: Some("1234".into()),
                url: Some("https://github.com/acme/advisory/actions/runs/1234".into()),
            })
        );
        assert_eq!(
            job(&[
                ("GITLAB_CI", "true"),
                ("GITLAB_USER_LOGIN", "jane"),
                ("CI_JOB_ID", "99"),
                ("CI_JOB_URL", "https://gitlab.com/acme/advisory/-/jobs/99"),
            ]),
            Some(CiJob {
                system: "gitlab-ci".into(),
                actor: Some("jane".into()),
                run_id: Some("99".into()),
                url: Some("https://gitlab.com/acme/advisory/-/jobs/99".into()),
            })
        );
        assert_eq!(
            job(&[
                ("BUILD_URL", "https://ci.acme.io/job/parity/7/"),
                ("BUILD_TAG", "")
            ]),
            Some(CiJob {
                system: "jenkins".into(),
                actor: None,
                run_id: None,
                url: Some("https://ci.acme.io/job/parity/7/".into()),
            }),
            "an empty variable counts as absent"
        );
    }
}
