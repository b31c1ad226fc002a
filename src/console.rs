//! Writing to standard output and standard error without panicking when
//! the reader has gone: `imgconform run | head -3` closes the pipe after
//! three lines, and `println!` would then panic.
//!
//! The first write that finds a stream closed (a broken pipe, or any other
//! write error) marks it closed; later writes to it are dropped. The
//! command goes on — `run --report DIR | head` still writes its report —
//! and [`exit_status`] then ends the process with 141, the status of a
//! process ended by SIGPIPE (128 + 13), which is what a shell reports for
//! `yes | head`.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// The exit status after standard output was closed by its reader.
pub const CLOSED_OUTPUT_STATUS: u8 = 141;

/// Writes to standard output; nothing once it was found closed.
pub fn write_out(args: fmt::Arguments<'_>) {
    write_to(&mut io::stdout().lock(), &STDOUT_CLOSED, args);
}

/// Writes to standard error; nothing once it was found closed.
pub fn write_err(args: fmt::Arguments<'_>) {
    write_to(&mut io::stderr().lock(), &STDERR_CLOSED, args);
}

/// Writes bytes to standard output as they are; nothing once it was found
/// closed.
pub fn write_out_bytes(bytes: &[u8]) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

fn write_to(stream: &mut impl Write, closed: &AtomicBool, args: fmt::Arguments<'_>) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if stream
        .write_fmt(args)
        .and_then(|()| stream.flush())
        .is_err()
    {
        closed.store(true, Ordering::Relaxed);
    }
}

/// Whether standard output was found closed.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// The status to exit with: `status` as the command decided it, unless
/// standard output was closed under a command that otherwise succeeded, in
/// which case 141 tells a `set -o pipefail` script that the output was cut.
pub fn exit_status(status: ExitCode) -> ExitCode {
    if stdout_closed() && status == ExitCode::SUCCESS {
        ExitCode::from(CLOSED_OUTPUT_STATUS)
    } else {
        status
    }
}

/// `text` on one line for a message: control characters escaped (`\n`,
/// `\r`, `\t`, `\u{1b}`), everything else, quotes included, as it is.
/// Debug formatting would also escape quotes and backslashes, which makes
/// a quoted body (`{"a":1}`) unreadable.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `println!` to standard output that never panics on a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::console::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` to standard output that never panics on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::write_out(format_args!($($arg)*)) };
}

/// `eprintln!` to standard error that never panics on a closed pipe.
#[macro_export]
macro_rules! errln {
    () => { $crate::console::write_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}
