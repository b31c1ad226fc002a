//! `imgconform serve` on a free loopback port, for tests that talk to it as
//! any client would; killed when dropped.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Serve {
    child: Child,
    pub addr: SocketAddr,
}

impl Serve {
    pub fn start() -> Serve {
        Serve::start_with(&[])
    }

    /// With more options (`--fault-every 2`, ...).
    pub fn start_with(options: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imgconform"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(options)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("imgconform serve starts");
        let stdout = child.stdout.take().expect("piped");
        let (found, address) = std::sync::mpsc::channel::<String>();
        // Reads the banner for the address, then drains the rest so that
        // the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Some((_, rest)) = line.split_once("listening on http://") {
                    if let Some(addr) = rest.split_whitespace().next() {
                        let _ = found.send(addr.to_string());
                    }
                    break;
                }
                line.clear();
            }
            let _ = std::io::copy(
                &mut reader.into_inner().take(u64::MAX),
                &mut std::io::sink(),
            );
        });
        let addr = address
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints its address")
            .parse()
            .expect("an address");
        Serve { child, addr }
    }
}

/// Sends `request` as it is and reads one answer: its head and body (by
/// its `Content-Length`, or to the end), within ten seconds.
#[allow(dead_code)]
pub fn exchange(addr: SocketAddr, request: &[u8]) -> (String, Vec<u8>) {
    use std::io::Write;
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

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
