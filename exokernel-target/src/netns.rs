//! Private network namespaces for running the kernel's TCP against the library-OS stack: a
//! [`Netns`] is created with `ip netns add`, given the TAP device's kernel end
//! ([`Netns::adopt`]), and deleted — with every device in it — when dropped. Kernel sockets
//! are made inside it by threads that enter it ([`Netns::spawn`]); the rest of the process
//! stays in its own namespace, so no traffic leaves the namespace.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::process::Command;
use std::thread::JoinHandle;

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};

/// A network namespace this process created; deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

/// Runs `ip ARGS…`; an error carries what `ip` printed.
///
/// # Errors
///
/// `ip` missing, or failing.
pub fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Netns {
    /// Creates namespace `name` with its loopback up.
    ///
    /// # Errors
    ///
    /// The namespace exists already, or `ip` fails (not root, say).
    pub fn create(name: &str) -> io::Result<Netns> {
        ip(&["netns", "add", name])?;
        let ns = Netns {
            name: name.to_string(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME ARGS…`.
    ///
    /// # Errors
    ///
    /// What `ip` said.
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Moves interface `device` (of this process's namespace) into the namespace, gives it
    /// `address` (`192.0.2.1/24`) there and brings it up. A TAP device's descriptor keeps
    /// working after the move: the kernel's end is in the namespace, the stack's end here.
    ///
    /// # Errors
    ///
    /// What `ip` said.
    pub fn adopt(&self, device: &str, address: &str) -> io::Result<()> {
        ip(&["link", "set", device, "netns", &self.name])?;
        self.ip(&["addr", "add", address, "dev", device])?;
        self.ip(&["link", "set", device, "up"])
    }

    /// Runs `f` on a new thread inside the namespace: sockets it makes belong to the
    /// namespace's stack.
    ///
    /// # Errors
    ///
    /// The namespace cannot be entered.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        let file = File::open(format!("/var/run/netns/{}", self.name))?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let entered = move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network));
            let ok = entered.is_ok();
            let _ = ready_tx.send(entered.map_err(io::Error::from));
            assert!(ok, "could not enter the namespace");
            f()
        });
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("the namespace thread died")),
        }
    }

    /// Runs `f` inside the namespace and returns its result.
    ///
    /// # Errors
    ///
    /// The namespace cannot be entered, or `f` panicked.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
        self.spawn(f)?
            .join()
            .map_err(|_| io::Error::other("the thread in the namespace panicked"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Whether namespace `name` exists.
#[must_use]
pub fn exists(name: &str) -> bool {
    std::path::Path::new("/var/run/netns").join(name).exists()
}
