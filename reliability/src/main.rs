//! `atmr-reliability`: the mesh as separate processes on loopback, under a
//! fixed-rate mixed workload, faults (a service killed, PostgreSQL or Redis
//! unreachable, notify killed mid-delivery, SIGTERM under load) and hostile
//! input (random and truncated protobuf to every RPC, every REST operation
//! with the wrong token, role or company). Each run ends by itself, writes a
//! Markdown report and exits non-zero when any check failed.
//!
//! `--profile short` takes well under a minute per backend (CI);
//! `--profile full` is the on-demand run whose figures go into BENCHMARKS.md.

mod faults;
mod fuzz;
mod hostile;
mod load;
mod procs;
mod proxy;
mod report;
mod security;
mod security_egress;
mod security_gateway;
mod security_tokens;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProfileName {
    Short,
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    /// SQLite and the in-process cache.
    Embedded,
    /// PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL).
    Postgres,
    /// Embedded, and PostgreSQL + Redis when both URLs are set.
    All,
}

#[derive(Debug, Parser)]
#[command(name = "atmr-reliability", about = "The atmr mesh under load, faults and hostile input")]
struct Cli {
    #[arg(long, value_enum, default_value = "short")]
    profile: ProfileName,
    #[arg(long, value_enum, default_value = "all")]
    backend: BackendChoice,
    /// The atmr binary to run; by default the one beside this binary.
    #[arg(long)]
    atmr: Option<PathBuf>,
    /// Where the Markdown report goes.
    #[arg(long, default_value = "target/reliability/report.md")]
    report: PathBuf,
    /// Also runs schemathesis (from PyPI, on PATH) against the mesh's
    /// /openapi.json with this many examples per operation.
    #[arg(long)]
    schemathesis: Option<u32>,
}

/// How hard and how long a run pushes.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: &'static str,
    /// Requests per second of the workload.
    pub rate: f64,
    /// How long the fault-free load runs.
    pub load: Duration,
    /// How long each fault lasts.
    pub fault: Duration,
    /// Notifications in flight when notify is killed.
    pub notifications: usize,
    /// Fuzz cases per RPC method.
    pub fuzz_cases: usize,
}

impl Profile {
    fn of(name: ProfileName) -> Self {
        match name {
            ProfileName::Short => Self {
                name: "short",
                rate: 40.0,
                load: Duration::from_secs(5),
                fault: Duration::from_secs(2),
                notifications: 12,
                fuzz_cases: 6,
            },
            ProfileName::Full => Self {
                name: "full",
                rate: 100.0,
                load: Duration::from_secs(60),
                fault: Duration::from_secs(10),
                notifications: 200,
                fuzz_cases: 200,
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let profile = Profile::of(cli.profile);
    let atmr = match cli.atmr {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name(format!("atmr{}", std::env::consts::EXE_SUFFIX)),
    };
    anyhow::ensure!(atmr.exists(), "no atmr binary at {} (build it, or pass --atmr)", atmr.display());
    // Absolute: the components run in their own working directory.
    let atmr = std::fs::canonicalize(&atmr)?;
    let pg = (std::env::var("TEST_DATABASE_URL").ok(), std::env::var("TEST_REDIS_URL").ok());
    let mut backends = Vec::new();
    if cli.backend != BackendChoice::Postgres {
        backends.push(None);
    }
    match (&pg, cli.backend) {
        ((Some(db), Some(redis)), BackendChoice::Postgres | BackendChoice::All) => backends.push(Some((db.clone(), redis.clone()))),
        (_, BackendChoice::Postgres) => anyhow::bail!("--backend postgres needs TEST_DATABASE_URL and TEST_REDIS_URL"),
        _ => println!("PostgreSQL + Redis skipped: TEST_DATABASE_URL and TEST_REDIS_URL are not both set"),
    }

    let started = std::time::Instant::now();
    let mut sections = Vec::new();
    for backend in backends {
        let backend = match backend {
            None => procs::Backend::Embedded,
            Some((db, redis)) => procs::Backend::postgres(&db, &redis).await?,
        };
        println!("== {} ({} profile)", backend.name(), profile.name);
        sections.extend(run_backend(&atmr, backend, &profile, cli.schemathesis).await?);
    }
    let header = format!(
        "Profile `{}` ({} req/s, load {:?}, faults {:?}), binary `{}`, {} cores ({}), {}; run took {:.0} s.",
        profile.name,
        profile.rate,
        profile.load,
        profile.fault,
        atmr.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        started.elapsed().as_secs_f64()
    );
    let text = report::markdown(&header, &sections);
    if let Some(dir) = cli.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&cli.report, &text)?;
    let failed = sections.iter().filter(|s| !s.passed()).count();
    println!("report: {} ({} sections, {failed} with failures)", cli.report.display(), sections.len());
    Ok(failed == 0)
}

/// The CPU's model name, from /proc/cpuinfo where there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

async fn run_backend(
    atmr: &std::path::Path,
    backend: procs::Backend,
    profile: &Profile,
    schemathesis: Option<u32>,
) -> anyhow::Result<Vec<report::Section>> {
    let mut mesh = procs::Mesh::start(atmr, backend).await?;
    let token = mesh.admin_token().await?;
    let workload = load::Workload::prepare(mesh.http.clone(), mesh.gateway(), token).await?;
    let mut sections = Vec::new();
    macro_rules! scenario {
        ($call:expr) => {{
            let mut section = $call;
            faults::no_panics(&mesh, &mut section);
            sections.push(section);
        }};
    }
    println!("-- load");
    scenario!(faults::steady_load(&mesh, &workload, profile).await);
    println!("-- gRPC fuzz");
    scenario!(fuzz::run(&mut mesh, profile).await);
    println!("-- hostile text");
    scenario!(hostile::run(&mesh, &workload).await);
    println!("-- REST security sweep");
    scenario!(security::run(&mesh, &workload).await);
    scenario!(security_egress::run(&mesh, &workload).await);
    scenario!(security_gateway::run(&mesh).await);
    scenario!(security_tokens::run(&mesh).await);
    println!("-- kill -9 bugs");
    scenario!(faults::kill_a_service(&mut mesh, &workload, profile).await);
    println!("-- kill -9 notify mid-delivery");
    scenario!(faults::kill_notify_mid_delivery(&mut mesh, &workload, profile).await);
    println!("-- SIGTERM gateway");
    scenario!(faults::terminate_the_gateway(&mut mesh, &workload, profile).await);
    if matches!(mesh.backend, procs::Backend::Postgres { .. }) {
        println!("-- Redis unreachable");
        scenario!(faults::lose_redis(&mut mesh, &workload, profile).await);
        println!("-- PostgreSQL unreachable");
        scenario!(faults::lose_postgres(&mut mesh, &workload, profile).await);
    }
    // Last: schemathesis changes and deletes whatever its random ids hit.
    if let Some(examples) = schemathesis {
        println!("-- schemathesis");
        scenario!(security::schemathesis(&mesh, &workload, examples).await);
    }
    // Every component exits cleanly at the end.
    for component in kit::Component::ALL.iter().rev() {
        let _ = mesh.take(*component).terminate().await;
    }
    if let Some(failed) = sections.iter_mut().find(|s| !s.passed()) {
        let logs = mesh.keep_logs();
        failed.note(format!("the components' logs are kept in {}", logs.display()));
    }
    Ok(sections)
}
