//! `dengta score --cluster`: one Ballista scheduler and two executors on loopback
//! ports (started with `dengta cluster …`), scoring a generated dataset; the
//! results equal the local run's exactly.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], log: &Path) -> Killed {
    let file = std::fs::File::create(log).expect("log file");
    Killed(
        Command::new(env!("CARGO_BIN_EXE_dengta"))
            .args(args)
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn"),
    )
}

fn wait_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn scoring_on_a_ballista_cluster_equals_the_local_run() {
    let work = tempfile::tempdir().expect("temp");
    let data = work.path().join("data");
    let o = Command::new(env!("CARGO_BIN_EXE_dengta"))
        .args(["generate", s(&data), "--stores", "30", "--days", "60", "--seed", "4"])
        .output()
        .expect("generate");
    assert!(o.status.success());

    let sched = free_port();
    let _scheduler =
        spawn(&["cluster", "scheduler", "--bind", &format!("127.0.0.1:{sched}")], &work.path().join("scheduler.log"));
    wait_port(sched);
    let mut executors = Vec::new();
    for i in 0..2 {
        let (flight, grpc) = (free_port(), free_port());
        let dir = work.path().join(format!("executor-{i}"));
        std::fs::create_dir_all(&dir).expect("work dir");
        executors.push(spawn(
            &[
                "cluster",
                "executor",
                "--scheduler",
                &format!("127.0.0.1:{sched}"),
                "--port",
                &flight.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--concurrent-tasks",
                "2",
                "--work-dir",
                s(&dir),
            ],
            &work.path().join(format!("executor-{i}.log")),
        ));
        wait_port(flight);
    }

    let run = |out: &Path, cluster: Option<String>| {
        let mut args = vec!["score".to_string(), s(&data).into(), "--from".into(), "2025-01-01".into()];
        args.extend(["--to".into(), "2025-03-01".into(), "--out".into(), s(out).into(), "--daily-only".into()]);
        if let Some(c) = cluster {
            args.extend(["--cluster".into(), c]);
        }
        let o = Command::new(env!("CARGO_BIN_EXE_dengta")).args(&args).output().expect("score");
        let logs: String = ["scheduler.log", "executor-0.log", "executor-1.log"]
            .iter()
            .map(|f| std::fs::read_to_string(work.path().join(f)).unwrap_or_default())
            .collect();
        assert!(
            o.status.success(),
            "{}{}\n{logs}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let (local, remote) = (work.path().join("local"), work.path().join("cluster"));
    run(&local, None);
    run(&remote, Some(format!("df://127.0.0.1:{sched}")));

    let daily = |d: &Path| std::fs::read(d.join("daily_scores.csv")).expect("daily scores");
    assert!(daily(&local).len() > 10_000);
    assert_eq!(daily(&remote), daily(&local), "the cluster's daily scores equal the local ones byte for byte");
    assert!(!remote.join("staged").exists(), "the staged events are removed when the run ends");

    // The aggregation really goes to the cluster: with no scheduler there, the run fails.
    let dead = free_port();
    let o = Command::new(env!("CARGO_BIN_EXE_dengta"))
        .args(["score", s(&data), "--from", "2025-01-01", "--to", "2025-03-01", "--daily-only", "--out"])
        .arg(work.path().join("dead"))
        .args(["--cluster", &format!("df://127.0.0.1:{dead}")])
        .output()
        .expect("score");
    assert!(!o.status.success(), "a run against a scheduler that is not there must fail");
}
