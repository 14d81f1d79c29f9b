//! Measures the outbox end to end against a local webhook: `Send` throughput
//! (16 concurrent callers, no worker running), then how fast a fresh instance
//! with 1 or 2 workers drains 1,000 or 10,000 queued notifications and how long
//! each waited (drain start → webhook received); then checks that every
//! notification arrived exactly once.
//!
//! ```text
//! cargo run --release -p atmr-notify --bin notify-bench -- \
//!     [--database-url URL] [--sizes 1000,10000] [--workers 1,2]
//! ```
//! Without `--database-url`, a fresh SQLite file per run in a temporary directory.
//! With one, give an empty PostgreSQL database per run: `{run}` in the URL is
//! replaced by the run's name (the bench creates nothing itself).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use atmr_proto::notify::v1::{self as pb, notify_service_client::NotifyServiceClient};
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use kit::{Env, Lifecycle, Listeners, auth::Role, bench::percentile};
use tonic::transport::Channel;

struct Args {
    database_url: Option<String>,
    sizes: Vec<usize>,
    workers: Vec<usize>,
}

fn list(flag: &str, value: &str) -> Result<Vec<usize>, String> {
    value.split(',').map(|v| v.trim().parse().map_err(|_| format!("{flag} expects numbers like 1,2, got {v:?}"))).collect()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { database_url: None, sizes: vec![1_000, 10_000], workers: vec![1, 2] };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.database_url = Some(value()?),
            "--sizes" => args.sizes = list("--sizes", &value()?)?,
            "--workers" => args.workers = list("--workers", &value()?)?,
            "--help" | "-h" => return Err("usage: notify-bench [--database-url URL] [--sizes 1000,10000] [--workers 1,2]".to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// What the webhook received: arrival time by notification id, and the count of every arrival.
#[derive(Clone, Default)]
struct Arrivals(Arc<Mutex<(HashMap<String, Instant>, usize)>>);

async fn receive(State(a): State<Arrivals>, body: Bytes) -> StatusCode {
    let now = Instant::now();
    let id = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["id"].as_str().map(str::to_owned)).unwrap_or_default();
    let mut guard = a.0.lock().expect("arrivals");
    guard.0.entry(id).or_insert(now);
    guard.1 += 1;
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let dir = kit::bench::scratch_dir("notify-bench")?;
    let arrivals = Arrivals::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new().route("/hook", post(receive)).with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    println!("| backend | queued | workers | Send/s | delivered/s | wait p50 ms | wait p99 ms | lost | duplicated |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for &size in &args.sizes {
        for &workers in &args.workers {
            let run = format!("n{size}_w{workers}");
            let url = match &args.database_url {
                Some(u) => u.replace("{run}", &run),
                None => format!("sqlite://{}/{run}.db?mode=rwc", dir.display()),
            };
            let backend = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
            *arrivals.0.lock().expect("arrivals") = (HashMap::new(), 0);
            let r = run_once(&url, &hook_url, size, workers, &arrivals).await?;
            println!(
                "| {backend} | {size} | {workers} | {:.0} | {:.0} | {:.1} | {:.1} | {} | {} |",
                r.send_rate, r.delivery_rate, r.p50, r.p99, r.lost, r.duplicated
            );
        }
    }
    Ok(())
}

struct Run {
    send_rate: f64,
    delivery_rate: f64,
    p50: f64,
    p99: f64,
    lost: usize,
    duplicated: usize,
}

/// Starts a notify instance on `url` with `workers` delivery workers.
async fn instance(url: &str, workers: usize) -> anyhow::Result<(Channel, Lifecycle, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let mut env = Env::default();
    env.set("NOTIFY_DATABASE_URL", url);
    // The fixed keys: a bench is a test rig, never a deployment.
    kit::auth::fixture::FixedKeys::get().configure(&mut env, kit::Component::Notify);
    env.set("NOTIFY_WORKERS", workers.to_string());
    env.set("NOTIFY_BATCH", "64");
    let cfg = atmr_notify::Config::from_env(&env)?;
    let listeners = Listeners::ephemeral().await?;
    let addr = listeners.main.local_addr()?;
    let life = Lifecycle::new();
    let server = tokio::spawn(atmr_notify::serve(cfg, listeners, life.clone()));
    if !life.ready().await {
        anyhow::bail!("the notify service did not start: {:?}", server.await);
    }
    Ok((Channel::from_shared(format!("http://{addr}"))?.connect().await?, life, server))
}

/// Queues `size` notifications with no worker running (Send alone), then starts
/// an instance with `workers` workers and measures how fast it drains the queue.
async fn run_once(url: &str, hook_url: &str, size: usize, workers: usize, arrivals: &Arrivals) -> anyhow::Result<Run> {
    let (channel, life, server) = instance(url, 0).await?;
    let keys = kit::auth::fixture::FixedKeys::get();
    let admin = keys.issue("1", "bench@example.com", 1, Role::Admin, Duration::from_secs(3600));
    let hook = NotifyServiceClient::new(channel.clone())
        .create_channel(kit::grpc::request(
            pb::CreateChannelRequest {
                name: "bench".into(),
                kind: pb::ChannelKind::Webhook as i32,
                url: hook_url.to_owned(),
                ..Default::default()
            },
            &admin,
        ))
        .await?
        .into_inner()
        .channel
        .unwrap_or_default();

    let callers = 16;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            let mut client = NotifyServiceClient::new(channel.clone());
            let token = keys.call_token(kit::Component::Dispatch, kit::Component::Notify, 1);
            let (sent, channel_id) = (sent.clone(), hook.id.clone());
            tokio::spawn(async move {
                for i in (c..size).step_by(callers) {
                    let r = pb::SendRequest {
                        channel_id: channel_id.clone(),
                        event_type: "bench.event".into(),
                        title: format!("bench notification {i}"),
                        body: "a body of a typical length for an alert about something that happened".into(),
                        severity: pb::Severity::Warning as i32,
                        ..Default::default()
                    };
                    let res = client.send(kit::grpc::request(r, &token)).await?.into_inner();
                    let now = Instant::now();
                    let mut guard = sent.lock().expect("sent");
                    for n in res.notifications {
                        guard.insert(n.id, now);
                    }
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let send_rate = size as f64 / started.elapsed().as_secs_f64();
    life.shutdown();
    let _ = server.await;
    let (_channel, life, server) = instance(url, workers).await?;
    let started = Instant::now();

    // Wait until everything arrived, or nothing has arrived for 30 s.
    let mut last_count = 0;
    let mut last_progress = Instant::now();
    loop {
        let count = arrivals.0.lock().expect("arrivals").0.len();
        if count >= size {
            break;
        }
        if count != last_count {
            (last_count, last_progress) = (count, Instant::now());
        } else if last_progress.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (received, total_arrivals) = arrivals.0.lock().expect("arrivals").clone();
    let sent = sent.lock().expect("sent").clone();
    // From the drain's start: how long each queued notification waited.
    let mut latencies: Vec<f64> =
        sent.keys().filter_map(|id| received.get(id).map(|r| r.saturating_duration_since(started).as_secs_f64() * 1000.0)).collect();
    latencies.sort_unstable_by(f64::total_cmp);
    let last = received.values().max().copied().unwrap_or(started);
    let delivery_rate = received.len() as f64 / last.saturating_duration_since(started).as_secs_f64().max(1e-9);
    life.shutdown();
    let _ = server.await;
    Ok(Run {
        send_rate,
        delivery_rate,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        lost: sent.keys().filter(|id| !received.contains_key(*id)).count(),
        duplicated: total_arrivals - received.len(),
    })
}
