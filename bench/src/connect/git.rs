//! Running git in the checkout: resolving revisions and describing them.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `git <args>` in `dir` and returns its trimmed standard output; fails with git's message.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .context("could not run git")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The full commit id that `rev` names.
pub fn resolve(dir: &Path, rev: &str) -> Result<String> {
    git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .with_context(|| format!("{rev:?} does not name a commit of this repository"))
}

/// Longest subject shown before it is cut with `…`.
const SUBJECT_CHARS: usize = 72;

/// `abc1234 subject` of a commit, the subject cut to [`SUBJECT_CHARS`].
pub fn describe(dir: &Path, commit: &str) -> Result<String> {
    let line = git(dir, &["log", "-1", "--format=%h %s", commit])?;
    Ok(shorten(&line, SUBJECT_CHARS))
}

/// The checked-out commit, with `+ uncommitted changes to <paths>` when tracked files under `paths` differ from it.
pub fn describe_work_tree(dir: &Path, paths: &[&str]) -> Result<String> {
    let head = describe(dir, "HEAD")?;
    Ok(if same_as_work_tree(dir, "HEAD", paths)? {
        head
    } else {
        format!("{head} + uncommitted changes to the Worker")
    })
}

/// The revision holding the code under `paths` before its latest change: `HEAD` when the work tree changes
/// them, else the parent of the last commit that changed them.
pub fn before_latest_change(dir: &Path, paths: &[&str]) -> Result<String> {
    if !same_as_work_tree(dir, "HEAD", paths)? {
        return Ok("HEAD".to_owned());
    }
    let mut args = vec!["log", "-1", "--format=%H", "HEAD", "--"];
    args.extend_from_slice(paths);
    let last = git(dir, &args)?;
    if last.is_empty() {
        bail!("no commit changed {}", paths.join(", "));
    }
    Ok(format!("{last}^"))
}

/// Whether the work tree's `paths` are the same as in `commit` (tracked files only).
pub fn same_as_work_tree(dir: &Path, commit: &str, paths: &[&str]) -> Result<bool> {
    let mut args = vec!["diff", "--quiet", commit, "--"];
    args.extend_from_slice(paths);
    let status = Command::new("git")
        .args(&args)
        .current_dir(dir)
        .status()
        .context("could not run git")?;
    match status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => bail!("git {} failed ({status})", args.join(" ")),
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_long_subjects_only() {
        assert_eq!(shorten("abc1234 short", 72), "abc1234 short");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("ééé", 2), "éé…");
    }
}
