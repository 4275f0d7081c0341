//! A scheduler and executors started as child processes on 127.0.0.1, killed
//! when dropped (also when a test fails or panics).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Children killed on drop.
pub(crate) struct Cluster {
    children: Vec<(String, Child)>,
    pub(crate) scheduler_port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file"))
}

impl Cluster {
    /// Starts `tactful-scheduler` and `executors` × `tactful-executor`, all
    /// with `engine_config` and `now`, and waits (at most `wait`) until the
    /// scheduler's `/readyz` says every executor has registered.
    pub(crate) fn start(
        dir: &Path,
        engine_config: &Path,
        now: &str,
        executors: usize,
        wait: Duration,
    ) -> Self {
        let scheduler_port = free_port();
        let mut cluster = Cluster {
            children: Vec::new(),
            scheduler_port,
        };
        let scheduler = Command::new(env!("CARGO_BIN_EXE_tactful-scheduler"))
            .arg("--engine-config")
            .arg(engine_config)
            .args(["--now", now])
            .args(["--bind", &format!("127.0.0.1:{scheduler_port}")])
            .args(["--min-ready-executors", &executors.to_string()])
            .env("RUST_LOG", "info")
            .stdout(log_file(dir, "scheduler.out"))
            .stderr(log_file(dir, "scheduler.err"))
            .spawn()
            .expect("spawn tactful-scheduler");
        cluster.children.push(("scheduler".into(), scheduler));
        for i in 0..executors {
            let work = dir.join(format!("executor-{i}"));
            std::fs::create_dir_all(&work).expect("executor work dir");
            let executor = Command::new(env!("CARGO_BIN_EXE_tactful-executor"))
                .arg("--engine-config")
                .arg(engine_config)
                .args(["--now", now])
                .args(["--host", "127.0.0.1"])
                .args(["--flight-port", &free_port().to_string()])
                .args(["--grpc-port", &free_port().to_string()])
                .args(["--scheduler-host", "127.0.0.1"])
                .args(["--scheduler-port", &scheduler_port.to_string()])
                .args(["--concurrent-tasks", "1"])
                .arg("--work-dir")
                .arg(&work)
                .env("RUST_LOG", "info")
                .stdout(log_file(dir, &format!("executor-{i}.out")))
                .stderr(log_file(dir, &format!("executor-{i}.err")))
                .spawn()
                .expect("spawn tactful-executor");
            cluster.children.push((format!("executor-{i}"), executor));
        }
        cluster.wait_ready(dir, wait);
        cluster
    }

    fn wait_ready(&mut self, dir: &Path, wait: Duration) {
        let start = Instant::now();
        let mut last = String::from("no answer yet");
        while start.elapsed() < wait {
            for (name, child) in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{name} exited early with {status}; its log:\n{}",
                        logs(dir, name)
                    );
                }
            }
            match readyz(self.scheduler_port) {
                Ok((200, _)) => return,
                Ok((code, body)) => last = format!("{code} {}", body.trim()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let all: Vec<String> = self.children.iter().map(|(n, _)| logs(dir, n)).collect();
        panic!(
            "the cluster was not ready within {wait:?}: GET /readyz on 127.0.0.1:{} said {last}\n{}",
            self.scheduler_port,
            all.join("\n")
        );
    }
}

/// The stdout and stderr a child wrote so far, for failure messages.
pub(crate) fn logs(dir: &Path, name: &str) -> String {
    let read = |suffix: &str| {
        std::fs::read_to_string(dir.join(format!("{name}.{suffix}.log"))).unwrap_or_default()
    };
    let err = read("err");
    let tail: Vec<&str> = err.lines().rev().take(40).collect();
    format!(
        "--- {name} stdout:\n{}--- {name} stderr (last 40 lines):\n{}",
        read("out"),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}

fn readyz(port: u16) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(
        format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let code = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    let body = rest.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Ok((code, body))
}
