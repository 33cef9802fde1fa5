//! The `exo` binary as a user runs it: bad flags get a clear error (exit 2); `serve echo` in a
//! private namespace answers the kernel's TCP, records a pcap, and ends gracefully on Ctrl-C
//! (SIGINT: exit 0, the connection closed with FINs, the pcap complete); `connect … send`
//! delivers every byte to a kernel listener. The namespace and device are gone afterwards.
//! The runs need root and /dev/net/tun and say why they skip otherwise.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exokernel_target::netns::{Netns, exists};
use exokernel_target::tap::tap_available;

fn exo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exo"))
}

#[test]
fn bad_flags_get_a_clear_error() {
    for (args, needle) in [
        (
            &["--addr", "300.1.1.1/24", "serve", "echo", "--port", "7"][..],
            "300.1.1.1",
        ),
        (
            &["--addr", "192.0.2.2", "serve", "echo", "--port", "7"][..],
            "ADDRESS/PREFIX",
        ),
        (
            &["--loss", "2", "serve", "echo", "--port", "7"][..],
            "fraction",
        ),
        (&["serve", "telnet", "--port", "7"][..], "telnet"),
        (&["connect", "192.0.2.1", "send", "10"][..], "ADDRESS:PORT"),
        (
            &["--mac", "01:00:00:00:00:01", "serve", "echo", "--port", "7"][..],
            "unicast",
        ),
    ] {
        let out = exo().args(args).output().expect("exo runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = exo()
        .args([
            "--netns",
            "no-such-namespace-here",
            "serve",
            "echo",
            "--port",
            "7",
        ])
        .output()
        .expect("exo runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

fn namespace(tag: &str) -> Option<Netns> {
    if let Err(why) = tap_available() {
        println!("skipping: {why}");
        return None;
    }
    Some(Netns::create(&format!("prolac-exo-{tag}-{}", std::process::id())).expect("namespace"))
}

#[test]
fn serve_echo_then_ctrl_c() {
    let Some(ns) = namespace("echo") else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pcap = dir.path().join("echo.pcap");
    let tap = format!("pe{}", std::process::id() % 1_000_000);
    let mut child = exo()
        .args(["--tap", &tap, "--netns", ns.name(), "--pcap"])
        .arg(&pcap)
        .args(["serve", "echo", "--port", "7"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("exo starts");
    let reply = ns
        .run(|| {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut s = loop {
                match TcpStream::connect_timeout(
                    &(Ipv4Addr::new(192, 0, 2, 2), 7).into(),
                    Duration::from_millis(500),
                ) {
                    Ok(s) => break s,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => panic!("connect: {e}"),
                }
            };
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            s.write_all(b"ping through exo").expect("write");
            let mut buf = [0u8; 16];
            s.read_exact(&mut buf).expect("the echo");
            // The connection stays open: Ctrl-C must close it with a FIN.
            (s, buf)
        })
        .expect("the kernel side");
    let (mut s, buf) = reply;
    assert_eq!(&buf, b"ping through exo");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::INT,
    )
    .expect("SIGINT");
    // exo closes the connection: the kernel reads end of file.
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("a clean close from exo");
    assert!(rest.is_empty());
    let _ = s.shutdown(Shutdown::Both);
    let status = child.wait().expect("exo ends");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(status.success(), "exo: {status}: {err}");
    assert!(err.contains("served 1 connections"), "{err}");
    let frames = exokernel_target::pcap::read_pcap(std::fs::File::open(&pcap).expect("pcap"))
        .expect("a complete pcap");
    assert!(frames.len() >= 8, "{} frames", frames.len());
    let name = ns.name().to_string();
    drop(ns);
    assert!(!exists(&name));
}

#[test]
fn connect_and_send_to_a_kernel_listener() {
    let Some(ns) = namespace("send") else { return };
    // Without and with the device's offloads (--offloads: the data goes to the kernel in
    // segments of up to 64 KiB), and with the TCP compiled by Cranelift (--tcp jit).
    for (i, (offloads, jit)) in [(false, false), (true, false), (false, true)]
        .into_iter()
        .enumerate()
    {
        let tap = format!("pc{}o{i}", std::process::id() % 1_000_000);
        let port = 5001 + i as u16;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let server = ns
            .spawn(move || {
                let l = TcpListener::bind(("0.0.0.0", port)).expect("bind");
                ready_tx.send(()).expect("ready");
                let (mut s, _) = l.accept().expect("accept");
                let mut all = Vec::new();
                s.read_to_end(&mut all).expect("read");
                all
            })
            .expect("the kernel side");
        ready_rx.recv().expect("listening");
        let mut cmd = exo();
        cmd.args(["--tap", &tap, "--netns", ns.name()]);
        if offloads {
            cmd.arg("--offloads");
        }
        if jit {
            cmd.args(["--tcp", "jit"]);
        }
        let out = cmd
            .args(["connect", &format!("192.0.2.1:{port}"), "send", "10000000"])
            .output()
            .expect("exo runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("done: 10000000 bytes sent"), "{err}");
        assert_eq!(err.contains("compiled by Cranelift"), jit, "{err}");
        let got = server.join().expect("the server");
        assert_eq!(got.len(), 10_000_000);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, b)| *b == b"0123456789abcdefghijklmnopqrstuvwxyz\n"[i % 37]),
            "the pattern, in order (offloads: {offloads}, JIT: {jit})"
        );
    }
}
