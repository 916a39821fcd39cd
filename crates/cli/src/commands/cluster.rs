//! `dengta cluster scheduler` and `dengta cluster executor`: Apache DataFusion
//! Ballista's own scheduler and executor processes, started from the Ballista crates
//! as libraries so one `dengta` binary is all a machine needs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::runtime;

/// Run a Ballista scheduler or executor for `dengta score --cluster df://HOST:PORT`.
///
/// Start one scheduler, then executors on every machine; point `dengta score
/// --cluster` at the scheduler. The events are staged as Parquet under the run's
/// output folder, so that folder must be on storage every executor reads at the
/// same path (NFS or similar).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Role,
}

#[derive(clap::Subcommand)]
enum Role {
    /// The scheduler: plans queries and hands tasks to executors.
    Scheduler {
        /// Address to listen on (gRPC).
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
        /// Host name executors and clients reach the scheduler by.
        #[arg(long)]
        external_host: Option<String>,
    },
    /// An executor: runs tasks and serves their results over Arrow Flight.
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// Host to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind_host: String,
        /// Host name the scheduler and other executors reach this one by.
        #[arg(long)]
        external_host: Option<String>,
        /// Arrow Flight port (task results).
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port (tasks from the scheduler).
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks run at once (default: the number of cores).
        #[arg(long)]
        concurrent_tasks: Option<usize>,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> Result<()> {
    let rt = runtime()?;
    match args.command {
        Role::Scheduler { bind, external_host } => rt.block_on(async move {
            use ballista_scheduler::cluster::BallistaCluster;
            use ballista_scheduler::config::SchedulerConfig;
            let mut config =
                SchedulerConfig { bind_host: bind.ip().to_string(), bind_port: bind.port(), ..Default::default() };
            if let Some(h) = external_host {
                config.external_host = h;
            }
            let cluster = BallistaCluster::new_from_config(&config).await.context("creating the scheduler state")?;
            println!("ballista scheduler listening on {bind} (use --cluster df://{bind})");
            ballista_scheduler::scheduler_process::start_server(cluster, bind, Arc::new(config))
                .await
                .context("running the scheduler")
        }),
        Role::Executor { scheduler, bind_host, external_host, port, grpc_port, concurrent_tasks, work_dir } => {
            let (host, sched_port) = scheduler
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                .with_context(|| format!("--scheduler `{scheduler}` is not HOST:PORT"))?;
            rt.block_on(async move {
                use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
                let mut config = ExecutorProcessConfig {
                    bind_host,
                    external_host,
                    port,
                    grpc_port,
                    scheduler_host: host,
                    scheduler_port: sched_port,
                    scheduler_connect_timeout_seconds: 30,
                    work_dir: work_dir.map(|d| d.display().to_string()),
                    print_thread_info: false,
                    ..Default::default()
                };
                if let Some(n) = concurrent_tasks {
                    config.vcores = n;
                }
                println!("ballista executor on port {port} (flight) / {grpc_port} (grpc), scheduler {scheduler}");
                start_executor_process(Arc::new(config)).await.context("running the executor")
            })
        }
    }
}
