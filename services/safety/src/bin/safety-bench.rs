//! Measures `AuthorizeAction` + `CompleteAction` pairs over real gRPC against an
//! in-process safety service: pairs per second and p50/p99 pair latency at each
//! concurrency, then an over-admission check (many concurrent attempts against a
//! limit of 100 must admit exactly 100).
//!
//! ```text
//! cargo run --release -p atmr-safety --bin safety-bench -- \
//!     [--database-url URL] [--seconds 10] [--concurrency 1,8,64]
//! ```
//! Without `--database-url`, a fresh SQLite file in a temporary directory is used.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use atmr_proto::safety::v1::{self as pb, safety_service_client::SafetyServiceClient};
use kit::{Env, Lifecycle, Listeners, auth::fixture::FixedKeys};
use tonic::transport::Channel;

/// The allocator the service runs with in production (the `atmr` binary's).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    database_url: Option<String>,
    seconds: u64,
    concurrency: Vec<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { database_url: None, seconds: 10, concurrency: vec![1, 8, 64] };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.database_url = Some(value()?),
            "--seconds" => args.seconds = value()?.parse().map_err(|_| "--seconds expects an integer".to_owned())?,
            "--concurrency" => {
                args.concurrency = value()?
                    .split(',')
                    .map(|c| c.trim().parse().map_err(|_| format!("--concurrency expects numbers like 1,8,64, got {c:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--help" | "-h" => return Err("usage: safety-bench [--database-url URL] [--seconds N] [--concurrency 1,8,64]".to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let dir = kit::bench::scratch_dir("safety-bench")?;
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.display()));
    let mut env = Env::default();
    env.set("SAFETY_DATABASE_URL", &url);
    // The fixed keys: a bench is a test rig, never a deployment.
    kit::auth::fixture::FixedKeys::get().configure(&mut env, kit::Component::Safety);
    env.set("NOTIFY_URL", "http://127.0.0.1:1");
    for var in ["SAFETY_MAX_ACTIONS_PER_HOUR", "SAFETY_MAX_ACTIONS_PER_DAY", "SAFETY_MAX_PER_TYPE_PER_HOUR", "SAFETY_MAX_PER_TYPE_PER_DAY"]
    {
        env.set(var, "1000000");
    }
    let cfg = atmr_safety::Config::from_env(&env)?;
    let listeners = Listeners::ephemeral().await?;
    let addr = listeners.main.local_addr()?;
    let admin = listeners.admin.local_addr()?;
    let life = Lifecycle::new();
    let server = tokio::spawn(atmr_safety::serve(cfg, listeners, life.clone()));
    if !life.ready().await {
        anyhow::bail!("the safety service did not start: {:?}", server.await);
    }
    let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
    let keys = Arc::new(FixedKeys::get());
    let backend = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
    let base_company = std::process::id() as i64 * 1000;

    println!("| backend | clients | pairs/s | p50 ms | p99 ms | requests per transaction | over-admissions (limit 100) |");
    println!("|---|---|---|---|---|---|---|");
    for (i, &clients) in args.concurrency.iter().enumerate() {
        let company = base_company + i as i64;
        run_pairs(&channel, &keys, company, clients, Duration::from_secs(1)).await?;
        let before = batch_totals(admin).await?;
        let (pairs, elapsed, mut lat) = run_pairs(&channel, &keys, company, clients, Duration::from_secs(args.seconds)).await?;
        let after = batch_totals(admin).await?;
        let per_transaction = (after.0 - before.0) / (after.1 - before.1).max(1.0);
        lat.sort_unstable_by(f64::total_cmp);
        let over = over_admissions(&channel, &keys, base_company + 500 + i as i64, clients).await?;
        println!(
            "| {backend} | {clients} | {:.0} | {:.2} | {:.2} | {per_transaction:.1} | {over} |",
            pairs as f64 / elapsed.as_secs_f64(),
            kit::bench::percentile(&lat, 0.50),
            kit::bench::percentile(&lat, 0.99)
        );
    }
    life.shutdown();
    let _ = server.await;
    Ok(())
}

/// (requests, transactions) so far, from the service's `safety_batch_size` histogram.
async fn batch_totals(admin: std::net::SocketAddr) -> anyhow::Result<(f64, f64)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut conn = tokio::net::TcpStream::connect(admin).await?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").await?;
    let mut body = String::new();
    conn.read_to_string(&mut body).await?;
    let value = |name: &str| {
        body.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
    };
    Ok((value("safety_batch_size_sum"), value("safety_batch_size_count")))
}

fn authorize_request(i: usize) -> pb::AuthorizeActionRequest {
    pb::AuthorizeActionRequest {
        booking_id: Some(i as i64 + 1),
        driver_id: Some(7),
        action_type: if i.is_multiple_of(2) { "reassign" } else { "delay" }.to_owned(),
        action_description: "bench action".to_owned(),
        action_data: r#"{"bench": true}"#.to_owned(),
        confidence_score: Some(0.9),
        expected_improvement_minutes: Some(5.0),
        trigger_source: "safety-bench".to_owned(),
    }
}

/// `clients` loops of authorize + complete for `duration`: (pairs, elapsed, pair latencies in ms).
async fn run_pairs(
    channel: &Channel,
    keys: &Arc<FixedKeys>,
    company: i64,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(usize, Duration, Vec<f64>)> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = SafetyServiceClient::new(channel.clone());
            let token = keys.call_token(kit::Component::Dispatch, kit::Component::Safety, company);
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let res = client.authorize_action(kit::grpc::request(authorize_request(i), &token)).await?.into_inner();
                    anyhow::ensure!(res.allowed, "a bench action was blocked: {:?}", res.blocked_by);
                    let done = pb::CompleteActionRequest {
                        action_id: res.action_id,
                        success: true,
                        error_message: None,
                        execution_time_ms: Some(3.0),
                    };
                    client.complete_action(kit::grpc::request(done, &token)).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    i += clients;
                }
                Ok::<_, anyhow::Error>(lat)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all.len(), start.elapsed(), all))
}

/// Sets a limit of 100 per hour and fires 400 attempts from `clients` workers:
/// returns how many more than 100 were admitted (must be 0).
async fn over_admissions(channel: &Channel, keys: &Arc<FixedKeys>, company: i64, clients: usize) -> anyhow::Result<i64> {
    let admin = keys.issue("bench", "bench@example.com", company, kit::auth::Role::Admin, Duration::from_secs(600));
    let limits = pb::SafetyLimits { max_actions_per_hour: Some(100), ..Default::default() };
    SafetyServiceClient::new(channel.clone()).set_limits(kit::grpc::request(pb::SetLimitsRequest { limits: Some(limits) }, &admin)).await?;
    let attempts = 400;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = SafetyServiceClient::new(channel.clone());
            let token = keys.call_token(kit::Component::Dispatch, kit::Component::Safety, company);
            tokio::spawn(async move {
                let mut allowed = 0i64;
                for i in (c..attempts).step_by(clients) {
                    if client.authorize_action(kit::grpc::request(authorize_request(i), &token)).await?.into_inner().allowed {
                        allowed += 1;
                    }
                }
                Ok::<_, anyhow::Error>(allowed)
            })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        allowed += t.await??;
    }
    Ok(allowed - 100)
}
