//! Test support: a private `redis-server` child on its own port, for outage tests and for tests
//! that must own the whole keyspace. The shared Redis on this machine is never stopped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A port nothing listens on (bound once by the OS, then released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// A `redis-server` without persistence; killed when stopped or dropped (also on a failed
/// assertion).
pub(crate) struct ThrowawayRedis {
    child: Child,
}

impl ThrowawayRedis {
    /// Starts `redis-server` on `port` and waits until it accepts connections.
    pub(crate) async fn start(port: u16) -> Self {
        Self::start_with(port, &[]).await
    }

    /// [`ThrowawayRedis::start`] with more `redis-server` options, e.g. `--requirepass`.
    pub(crate) async fn start_with(port: u16, options: &[&str]) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        let server = Self { child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not listen on port {port}");
    }

    /// Kills the server and waits until it is gone.
    pub(crate) fn stop(self) {}
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
