//! `imgconform serve` as a user meets it: the binary as a child process on
//! a free loopback port, its banner as printed, and plain HTTP/1.1 to it.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The banner's last line: once it is out, the server is listening.
const LAST_BANNER_LINE: &str = "Ctrl-C stops the server.";

/// A running `imgconform serve`; killed when dropped.
pub struct ServeChild {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    #[allow(dead_code)] // not every test that starts a server reads it
    pub uri: String,
    /// `host:port`.
    pub addr: String,
    /// Everything it printed up to and including its banner's last line.
    #[allow(dead_code)] // not every test that starts a server reads it
    pub banner: String,
}

impl ServeChild {
    /// `imgconform serve ARGS --addr 127.0.0.1:0`, run from the crate's
    /// root (so that `--world cases/worlds/…` resolves as in the README).
    pub fn start(args: &[&str]) -> ServeChild {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("imgconform serve starts");
        let stdout = child.stdout.take().expect("piped");
        let (lines, received) = std::sync::mpsc::channel::<String>();
        // Reads the banner, then keeps the pipe drained.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let _ = lines.send(line);
            }
        });
        let mut banner = String::new();
        loop {
            let line = match received.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("imgconform serve printed no whole banner ({e}): {banner}");
                }
            };
            banner.push_str(&line);
            banner.push('\n');
            if line == LAST_BANNER_LINE {
                break;
            }
        }
        let uri = banner
            .lines()
            .find_map(|l| l.strip_prefix("imgconform mock provider listening on "))
            .unwrap_or_else(|| panic!("no address in the banner: {banner}"))
            .trim()
            .to_string();
        let addr = uri.trim_start_matches("http://").to_string();
        ServeChild {
            child,
            uri,
            addr,
            banner,
        }
    }

    /// One request on a connection of its own: the answer's status and body.
    pub fn http(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.addr).expect("serve accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a timeout");
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("sent");
        stream.write_all(body).expect("sent");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("an answer");
        let end = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&answer)));
        let status = String::from_utf8_lossy(&answer[..end])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        (status, answer[end + 4..].to_vec())
    }

    /// The journal, as `GET /__imgconform/journal` serves it.
    #[allow(dead_code)] // not every test that starts a server reads it
    pub fn journal(&self) -> serde_json::Value {
        let (status, body) = self.http("GET", imgconform::mock::JOURNAL_PATH, &[], b"");
        assert_eq!(status, 200);
        serde_json::from_slice(&body).expect("the journal is JSON")
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` as it is and reads one answer: its head and body (by
/// its `Content-Length`, or to the end), within ten seconds.
#[allow(dead_code)]
pub fn exchange(addr: &str, request: &[u8]) -> (String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(addr).expect("serve accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    stream.write_all(request).expect("sent");
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut head_end = None;
    loop {
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&bytes[..end]).to_string();
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            });
            if length.is_some_and(|n| bytes.len() >= end + 4 + n) {
                let n = length.unwrap_or(0);
                return (head, bytes[end + 4..end + 4 + n].to_vec());
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
        if head_end.is_none() {
            head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
        }
    }
    match head_end {
        Some(end) => (
            String::from_utf8_lossy(&bytes[..end]).to_string(),
            bytes[end + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(&bytes).to_string(), Vec::new()),
    }
}
