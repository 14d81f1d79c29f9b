//! `RunDispatch` end to end (gRPC call → plan → written) on the demo generator's
//! data at several sizes, against an in-process dispatch service: wall time of
//! the call, the run's own split into load, solve (travel matrix and solver) and
//! write, and the SQL statements each run sent.
//!
//! ```text
//! cargo run --release -p atmr-dispatch --bin dispatch-bench -- \
//!     [--database-url URL] [--bookings 100,500,2000] [--runs 5] [--budget-ms MS]
//! ```
//! Without `--database-url`, a fresh SQLite file in a temporary directory is
//! used. Each size gets its own company (drivers = bookings / 12.5, patients =
//! bookings × 1.2), loaded once; every run is a full re-plan of the day, so
//! runs after the first also supersede the previous plan.
//!
//! `--export DIR` writes each size's day instead, as the problem a full re-plan
//! solves (`DIR/demo-<bookings>.json`, the `solver::day` format that
//! `vrp-bench` and `scripts/darp-peer.py` read), and runs nothing.

use std::time::{Duration, Instant};

use atmr_proto::dispatch::v1::{self as pb, dispatch_service_client::DispatchServiceClient};
use kit::{Env, Lifecycle, Listeners, auth::Role, bench::percentile};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

struct Args {
    database_url: Option<String>,
    sizes: Vec<usize>,
    runs: usize,
    /// The solver's budget per run; 0: the service's default.
    budget_ms: i32,
    /// Write each day's problem here instead of running it.
    export: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { database_url: None, sizes: vec![100, 500, 2_000], runs: 5, budget_ms: 0, export: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.database_url = Some(value()?),
            "--bookings" => {
                args.sizes = value()?
                    .split(',')
                    .map(|v| v.trim().parse::<usize>().map_err(|_| format!("--bookings expects whole numbers, got {v:?}")))
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => args.runs = value()?.parse::<usize>().map_err(|_| "--runs expects a whole number".to_owned())?.max(1),
            "--budget-ms" => args.budget_ms = value()?.parse::<i32>().map_err(|_| "--budget-ms expects milliseconds".to_owned())?,
            "--export" => args.export = Some(value()?.into()),
            "--help" | "-h" => {
                return Err(
                    "usage: dispatch-bench [--database-url URL] [--bookings 100,500,2000] [--runs N] [--budget-ms MS] [--export DIR]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// `dispatch_sql_statements_total` from the admin port.
async fn statements(admin: std::net::SocketAddr) -> anyhow::Result<u64> {
    let mut s = tokio::net::TcpStream::connect(admin).await?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n").await?;
    let mut body = String::new();
    s.read_to_string(&mut body).await?;
    let line =
        body.lines().find(|l| l.starts_with("dispatch_sql_statements_total")).ok_or_else(|| anyhow::anyhow!("no statement counter"))?;
    Ok(line.rsplit(' ').next().unwrap_or("0").parse()?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    percentile(&v, 0.5)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let dir = kit::bench::scratch_dir("dispatch-bench")?;
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.display()));
    let backend = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
    let mut env = Env::default();
    env.set("DISPATCH_DATABASE_URL", &url);
    // The fixed keys: a bench is a test rig, never a deployment.
    kit::auth::fixture::FixedKeys::get().configure(&mut env, kit::Component::Dispatch);
    let cfg = atmr_dispatch::Config::from_env(&env)?;
    let listeners = Listeners::ephemeral().await?;
    let (addr, admin) = (listeners.main.local_addr()?, listeners.admin.local_addr()?);
    let life = Lifecycle::new();
    let server = tokio::spawn(atmr_dispatch::serve(cfg, listeners, life.clone()));
    if !life.ready().await {
        anyhow::bail!("the dispatch service did not start: {:?}", server.await);
    }
    let client = DispatchServiceClient::connect(format!("http://{addr}")).await?.max_decoding_message_size(64 << 20);
    let keys = kit::auth::fixture::FixedKeys::get();
    let db = kit::db::connect(&url).await?;
    // Tomorrow in the companies' zone: a run plans nothing before now.
    let day = (chrono::Utc::now().with_timezone(&chrono_tz::Europe::Zurich) + chrono::Duration::days(1)).date_naive();

    println!("backend: {backend}; {} runs per size; times in ms (median over runs)", args.runs);
    println!("| bookings | drivers | assigned | call wall | load | solve | write | load+write | SQL statements per run |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (k, &n) in args.sizes.iter().enumerate() {
        let company = 1_000 + k as i64;
        let size = atmr_dispatch::demo::Size { drivers: (n * 2 / 25).max(2), patients: n * 6 / 5, bookings: n };
        let t = Instant::now();
        atmr_dispatch::demo::seed_sized(&db, company, day, size).await?;
        eprintln!("{n} bookings: loaded in {:.1} s", t.elapsed().as_secs_f64());
        if let Some(dir) = &args.export {
            let (problem, origin) = atmr_dispatch::demo::problem(&db, company, day).await?;
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("demo-{n}.json"));
            std::fs::write(&path, atmr_dispatch::solver::day::write(&format!("demo-{n}"), origin, &problem))?;
            eprintln!(
                "{n} bookings: {} requests, {} drivers written to {}",
                problem.requests.len(),
                problem.vehicles.len(),
                path.display()
            );
            continue;
        }
        if backend == "PostgreSQL" {
            use sea_orm::ConnectionTrait as _;
            db.execute_unprepared("ANALYZE").await?;
        }
        let token = keys.issue("1", "bench@example.com", company, Role::Dispatcher, Duration::from_secs(3600));
        let (mut wall, mut load, mut solve, mut write, mut stmts, mut assigned) = (vec![], vec![], vec![], vec![], vec![], 0);
        for run in 0..args.runs {
            let before = statements(admin).await?;
            let req = pb::RunDispatchRequest {
                service_day: day.to_string(),
                mode: pb::RunMode::Full as i32,
                seed: run as u64,
                time_budget_ms: args.budget_ms,
            };
            let t = Instant::now();
            let res = client.clone().run_dispatch(kit::grpc::request(req, &token)).await?.into_inner();
            wall.push(t.elapsed().as_secs_f64() * 1000.0);
            stmts.push(statements(admin).await? - before);
            let r = res.run.unwrap_or_default();
            (load, solve, write) =
                ([load, vec![r.load_ms]].concat(), [solve, vec![r.solver_ms]].concat(), [write, vec![r.write_ms]].concat());
            assigned = r.bookings_assigned;
        }
        let (l, w) = (median(load.clone()), median(write.clone()));
        stmts.sort_unstable();
        let stmts = if stmts.first() == stmts.last() { stmts[0].to_string() } else { format!("{}–{}", stmts[0], stmts[stmts.len() - 1]) };
        println!(
            "| {n} | {} | {assigned} | {:.0} | {l:.1} | {:.0} | {w:.1} | {:.1} | {stmts} |",
            size.drivers,
            median(wall),
            median(solve),
            l + w,
        );
    }
    life.shutdown();
    let _ = server.await;
    Ok(())
}
