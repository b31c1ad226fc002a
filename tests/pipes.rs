//! No command panics when the reader of its output goes away:
//! `imgconform run | head -3` must end quietly. Each command runs with its
//! standard output closed before it writes anything (and, separately, its
//! standard error), and once more behind a reader that takes one line and
//! closes, as `head -1` does.

use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// One end of a pipe whose other end is already closed: every write to it
/// fails with a broken pipe.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills both descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "a pipe");
    // SAFETY: fds[0] and fds[1] are open descriptors that nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fds[0]) });
    Stdio::from(unsafe { OwnedFd::from_raw_fd(fds[1]) })
}

const IMPORT: &str = "tests/fixtures/requests/import_ok.json";

/// Every command that writes to standard output, with arguments that make
/// it succeed.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["run", "--cases", "4", "--seed", "1"],
        vec!["run", "--cases", "4", "--seed", "1", "--format", "json"],
        vec!["run", "--target", "validator"],
        vec!["validate", "--api", "jdcloud/importImage", IMPORT],
        vec!["sign", "--api", "jdcloud/importImage", IMPORT],
        vec!["spec", "list"],
        vec!["spec", "schema"],
        vec!["report"],
        vec!["report", "--format", "html"],
        vec!["report", "--format", "json"],
        vec!["--help"],
        vec!["run", "--help"],
    ]
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imgconform"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        // `sign` needs credentials; these open nothing.
        .env("JDCLOUD_ACCESS_KEY", "AKIDPIPETEST")
        .env("JDCLOUD_SECRET_KEY", "pipe-test-secret");
    c
}

#[test]
fn a_closed_standard_output_ends_every_command_quietly_with_status_141() {
    for args in commands() {
        let out = command(&args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("Broken pipe"),
            "{args:?} complains: {stderr}"
        );
        // clap's own help writer ends with 0 on a closed pipe; every
        // command of ours tells the cut with SIGPIPE's conventional status.
        let expected = if args.contains(&"--help") { 0 } else { 141 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_standard_error_never_panics() {
    let mut all = commands();
    // Commands that write mostly to standard error: a lint, a usage error.
    all.push(vec!["spec", "lint"]);
    all.push(vec!["validate", "--api", "nobody/Nothing", IMPORT]);
    for args in all {
        let out = command(&args)
            .stdout(Stdio::null())
            .stderr(closed_pipe())
            .output()
            .expect("the binary runs");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
        assert!(out.status.code().is_some(), "{args:?} died of a signal");
    }
}

#[test]
fn a_reader_that_takes_one_line_and_closes_ends_every_command_quietly() {
    for args in commands() {
        let mut child = command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        // The reader is dropped here: the pipe closes as `head -1` closes it.
        let out = child.wait_with_output().expect("the command ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty(), "{args:?} wrote nothing");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // Whether the pipe closed before the last write depends on timing:
        // 0 when everything fitted in the pipe first, 141 when it did not.
        assert!(
            matches!(out.status.code(), Some(0 | 141)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
