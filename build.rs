//! Rebuild when a migration is added or changed: `sqlx::migrate!` embeds the folder at compile
//! time and cargo does not watch it by itself.
//!
//! Also names the build for `switchboard_build_info`: `SWITCHBOARD_GIT_COMMIT` (the checked-out
//! commit, `unknown` outside a git checkout; set the variable to override it, e.g. in a
//! container build without `.git`) and `SWITCHBOARD_RUSTC` (the compiler's version). Two
//! `git`/`rustc` invocations; a crate such as vergen would add a dozen build dependencies for
//! them.
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_GIT_COMMIT");
    let commit = std::env::var("SWITCHBOARD_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SWITCHBOARD_GIT_COMMIT={commit}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = output(Command::new(rustc).arg("--version"))
        // "rustc 1.95.0 (hash date)" → "1.95.0"
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SWITCHBOARD_RUSTC={version}");
}

/// The commit checked out, 12 hex digits; watches HEAD and the branch it points to, so a new
/// commit re-runs this script (a worktree's HEAD and the shared refs both resolve through
/// `git rev-parse --git-path`).
fn git_commit() -> Option<String> {
    let commit = output(Command::new("git").args(["rev-parse", "--short=12", "HEAD"]))?;
    let branch = output(Command::new("git").args(["symbolic-ref", "-q", "HEAD"]));
    for name in ["HEAD", "packed-refs"]
        .into_iter()
        .map(str::to_owned)
        .chain(branch)
    {
        if let Some(path) = output(Command::new("git").args(["rev-parse", "--git-path", &name]))
            .filter(|p| Path::new(p).exists())
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}

/// Trimmed standard output of a successful command.
fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}
