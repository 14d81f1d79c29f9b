//! Loads a company with 100,000 bugs (through CreateBug and UpdateBug, so the
//! aggregates are the service's own) and 300,000 comments (bulk SQL: comments
//! touch no aggregate), then measures over real gRPC against an in-process
//! service:
//! - p50/p99 of ListBugs with a text search, ListBugs with two filters,
//!   MetricsSummary and Trends(30), one request at a time;
//! - CreateBug throughput while loading (new bugs) and with grouping (reports of
//!   existing bugs), at the given concurrency.
//!
//! ```text
//! cargo run --release -p atmr-bugs --bin bugs-bench -- \
//!     [--database-url URL] [--bugs 100000] [--comments 300000] [--concurrency 16] [--samples 300]
//! ```
//! Without `--database-url`, a fresh SQLite file in a temporary directory is
//! used. Give PostgreSQL an empty database: the bench loads company 1. On a
//! database that already holds the bugs (a second run), it measures without loading.
//!
//! One file past 500 lines because it is one program: the loader and the
//! measurements share the channel, the tokens and the report generator, and
//! nothing here is used elsewhere.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use atmr_proto::{
    bugs::v1::{self as pb, bug_service_client::BugServiceClient},
    common::v1::PageRequest,
};
use chrono::{DateTime, Utc};
use kit::{Env, Lifecycle, Listeners, auth::Role, bench::percentile, clock::ManualClock};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use sea_orm::{ConnectionTrait as _, DbBackend, Statement, Value};
use tonic::transport::Channel;

const COMPANY: i64 = 1;

/// Words of titles and descriptions; the last ones are rare (see `describe`).
const WORDS: &[&str] = &[
    "booking",
    "driver",
    "patient",
    "dispatch",
    "invoice",
    "route",
    "map",
    "login",
    "session",
    "token",
    "export",
    "report",
    "calendar",
    "wheelchair",
    "stretcher",
    "pickup",
    "dropoff",
    "schedule",
    "shift",
    "vehicle",
    "depot",
    "address",
    "geocoder",
    "osrm",
    "solver",
    "timeout",
    "crash",
    "freeze",
    "blank",
    "slow",
    "duplicate",
    "missing",
    "wrong",
    "stale",
    "overlap",
    "rounding",
    "currency",
    "vat",
    "email",
    "sms",
    "discord",
    "webhook",
    "retry",
    "cache",
    "redis",
    "postgres",
    "migration",
    "upload",
    "download",
    "pdf",
    "csv",
    "button",
    "dropdown",
    "modal",
    "table",
    "filter",
    "search",
    "sort",
    "page",
    "scroll",
    "mobile",
    "android",
    "ios",
    "safari",
    "chrome",
    "firefox",
    "tablet",
    "printer",
    "label",
    "barcode",
    "signature",
    "consent",
    "privacy",
    "audit",
    "permission",
    "role",
    "admin",
    "dispatcher",
    "reporter",
    "company",
    "tenant",
    "zone",
    "lausanne",
    "geneva",
    "zurich",
    "bern",
    "basel",
    "lugano",
    "sion",
    "fribourg",
    "neuchatel",
    "dialysis",
    "oncology",
    "radiology",
    "clinic",
    "hospital",
    "return",
    "recurring",
    "template",
    "appointment",
    "window",
    "late",
    "early",
    "eta",
    "traffic",
    "detour",
    "fuel",
    "battery",
    "gps",
    "signal",
    "tunnel",
    "offline",
    "sync",
    "conflict",
    "lock",
    "deadlock",
    "panic",
    "overflow",
    "null",
    "undefined",
    "encoding",
    "utf8",
    "accent",
    "timezone",
    "daylight",
    "midnight",
    "weekend",
    "holiday",
    "capacity",
    "seats",
    "boarding",
    "ramp",
    "lift",
    "oxygen",
    "escort",
    "companion",
    // Rare words: one description in a few hundred.
    "kaleidoscope",
    "zeppelin",
    "quokka",
    "marzipan",
];
const RARE: usize = 4;
const CATEGORIES: &[&str] = &["ui", "dispatch", "billing", "maps", "notify", "auth", "mobile", "reports"];
const ENVIRONMENTS: &[&str] = &["production", "production", "production", "staging", "development"];
const TAGS: &[&str] = &["regression", "customer", "safari", "android", "ios", "perf", "data", "security", "ux", "flaky"];
const ASSIGNEES: &[&str] = &["ana@example.com", "marc@example.com", "lea@example.com", "tom@example.com", "ines@example.com"];

struct Args {
    database_url: Option<String>,
    bugs: usize,
    comments: usize,
    concurrency: usize,
    samples: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { database_url: None, bugs: 100_000, comments: 300_000, concurrency: 16, samples: 300 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let mut number = |name: &str| value()?.parse::<usize>().map_err(|_| format!("{name} expects a whole number"));
        match flag.as_str() {
            "--database-url" => args.database_url = Some(value()?),
            "--bugs" => args.bugs = number("--bugs")?.max(1),
            "--comments" => args.comments = number("--comments")?,
            "--concurrency" => args.concurrency = number("--concurrency")?.max(1),
            "--samples" => args.samples = number("--samples")?.max(1),
            "--help" | "-h" => {
                return Err("usage: bugs-bench [--database-url URL] [--bugs N] [--comments N] [--concurrency N] [--samples N]".to_owned());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// 12..40 common words, and one in 200 descriptions gets a rare word.
fn describe(rng: &mut StdRng) -> String {
    let common = &WORDS[..WORDS.len() - RARE];
    let mut words: Vec<&str> = (0..rng.random_range(12..40)).map(|_| pick(rng, common)).collect();
    if rng.random_bool(0.005) {
        words.push(pick(rng, &WORDS[WORDS.len() - RARE..]));
    }
    words.join(" ")
}

fn new_report(rng: &mut StdRng, i: usize) -> pb::CreateBugRequest {
    let common = &WORDS[..WORDS.len() - RARE];
    let title = format!("{} {} on {}", pick(rng, common), pick(rng, common), pick(rng, common));
    let trace = if rng.random_bool(0.3) {
        format!(
            "Traceback (most recent call last):\n  File \"/app/{0}/views.py\", line {1}, in {2}\n    {2}(id={3})\nValueError: {0} {3} is {4}",
            pick(rng, CATEGORIES),
            rng.random_range(10..900),
            pick(rng, common),
            i,
            pick(rng, common)
        )
    } else {
        String::new()
    };
    pb::CreateBugRequest {
        title,
        description: describe(rng),
        severity: rng.random_range(1..=4),
        priority: rng.random_range(1..=4),
        category: pick(rng, CATEGORIES).to_owned(),
        environment: pick(rng, ENVIRONMENTS).to_owned(),
        release: format!("2026.{}.{}", rng.random_range(1..12), rng.random_range(0..5)),
        stack_trace: trace,
        tags: (0..rng.random_range(0..3)).map(|_| pick(rng, TAGS).to_owned()).collect(),
        fingerprint: format!("bench-{i}"),
        assignee: rng.random_bool(0.6).then(|| pick(rng, ASSIGNEES).to_owned()),
    }
}

/// Creates bugs 0..n from `clients` workers, each bug at its point of a year
/// ending now; 60% are later moved on (in progress, resolved, closed, won't fix).
async fn load(
    channel: &Channel,
    token: &str,
    clock: &ManualClock,
    end: DateTime<Utc>,
    n: usize,
    clients: usize,
) -> anyhow::Result<(Duration, usize)> {
    let step = chrono::Duration::seconds(365 * 86_400 / n as i64);
    let start_time = end - step * n as i32;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = BugServiceClient::new(channel.clone());
            let (token, clock) = (token.to_owned(), clock.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(c as u64);
                let mut updates = 0;
                for i in (c..n).step_by(clients) {
                    let created = start_time + step * i as i32;
                    clock.set(created);
                    let bug =
                        client.create_bug(kit::grpc::request(new_report(&mut rng, i), &token)).await?.into_inner().bug.unwrap_or_default();
                    let status = match rng.random_range(0..10) {
                        0..=3 => continue,
                        4 => pb::Status::InProgress,
                        5..=7 => pb::Status::Resolved,
                        8 => pb::Status::Closed,
                        _ => pb::Status::WontFix,
                    };
                    clock.set(created + chrono::Duration::minutes(rng.random_range(5..14 * 24 * 60)));
                    if status == pb::Status::Closed {
                        // Closing goes through resolved.
                        set_status(&mut client, &token, bug.id, pb::Status::Resolved).await?;
                        updates += 1;
                    }
                    set_status(&mut client, &token, bug.id, status).await?;
                    updates += 1;
                }
                Ok::<_, anyhow::Error>(updates)
            })
        })
        .collect();
    let mut updates = 0;
    for t in tasks {
        updates += t.await??;
    }
    Ok((started.elapsed(), updates))
}

async fn set_status(client: &mut BugServiceClient<Channel>, token: &str, id: i64, status: pb::Status) -> Result<(), tonic::Status> {
    let bug = pb::Bug { id, status: status as i32, ..Default::default() };
    let mask = prost_types::FieldMask { paths: vec!["status".to_owned()] };
    client.update_bug(kit::grpc::request(pb::UpdateBugRequest { bug: Some(bug), update_mask: Some(mask) }, token)).await.map(|_| ())
}

/// Inserts `n` comments on random bugs in statements of 1,000 rows.
async fn load_comments(db: &sea_orm::DatabaseConnection, bugs: usize, n: usize, end: DateTime<Utc>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let backend = db.get_database_backend();
    let mut rng = StdRng::seed_from_u64(99);
    let mut done = 0;
    while done < n {
        let rows = (n - done).min(1_000);
        let mut sql = String::from("INSERT INTO bug_comments (bug_id, company_id, author_id, author, body, created_at) VALUES ");
        let mut values: Vec<Value> = Vec::with_capacity(rows * 6);
        for r in 0..rows {
            let base = r * 6;
            if r > 0 {
                sql.push(',');
            }
            let p = |k: usize| if backend == DbBackend::Postgres { format!("${}", base + k) } else { "?".to_owned() };
            sql.push_str(&format!("({},{},{},{},{},{})", p(1), p(2), p(3), p(4), p(5), p(6)));
            let who = rng.random_range(0..ASSIGNEES.len());
            values.extend([
                Value::from(rng.random_range(1..=bugs as i64)),
                Value::from(COMPANY),
                Value::from(format!("{}", 100 + who)),
                Value::from(ASSIGNEES[who].to_owned()),
                Value::from(describe(&mut rng)),
                Value::from(end - chrono::Duration::minutes(rng.random_range(0..365 * 24 * 60))),
            ]);
        }
        db.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
        done += rows;
    }
    Ok(started.elapsed())
}

async fn autovacuum_off(db: &sea_orm::DatabaseConnection) -> anyhow::Result<bool> {
    let row = db.query_one(Statement::from_string(DbBackend::Postgres, "SHOW autovacuum")).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<String>(0).ok()).is_some_and(|v| v == "off"))
}

/// Latencies in ms of `samples` sequential calls of `call`.
async fn sample<F, Fut>(samples: usize, mut call: F) -> anyhow::Result<Vec<f64>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    let mut lat = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        call(i).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_unstable_by(f64::total_cmp);
    Ok(lat)
}

/// CreateBug of existing fingerprints for `duration`: (reports/s, sorted latencies in ms).
async fn grouping(channel: &Channel, token: &str, bugs: usize, clients: usize, duration: Duration) -> anyhow::Result<(f64, Vec<f64>)> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = BugServiceClient::new(channel.clone());
            let token = token.to_owned();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(1_000 + c as u64);
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let i = rng.random_range(0..bugs);
                    let t = Instant::now();
                    client.create_bug(kit::grpc::request(new_report(&mut rng, i), &token)).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, anyhow::Error>(lat)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_unstable_by(f64::total_cmp);
    Ok((rate, all))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args().map_err(anyhow::Error::msg)?;
    let dir = kit::bench::scratch_dir("bugs-bench")?;
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/bench.db?mode=rwc", dir.display()));
    let mut env = Env::default();
    env.set("BUGS_DATABASE_URL", &url);
    // The fixed keys: a bench is a test rig, never a deployment.
    kit::auth::fixture::FixedKeys::get().configure(&mut env, kit::Component::Bugs);
    env.set("NOTIFY_URL", "http://127.0.0.1:1");
    let mut cfg = atmr_bugs::Config::from_env(&env)?;
    let end = Utc::now();
    let clock = ManualClock::new(end);
    cfg.clock = Arc::new(clock.clone());
    let listeners = Listeners::ephemeral().await?;
    let addr = listeners.main.local_addr()?;
    let life = Lifecycle::new();
    let server = tokio::spawn(atmr_bugs::serve(cfg, listeners, life.clone()));
    if !life.ready().await {
        anyhow::bail!("the bugs service did not start: {:?}", server.await);
    }
    let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
    let keys = kit::auth::fixture::FixedKeys::get();
    let token = keys.issue("100", "ana@example.com", COMPANY, Role::Dispatcher, Duration::from_secs(6 * 3600));
    let backend = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };

    let db = kit::db::connect(&url).await?;
    // The planner needs statistics of the growing tables; where autovacuum is off
    // (as on some CI database servers), do what it would do: analyze as they grow.
    let analyzer = (backend == "PostgreSQL" && autovacuum_off(&db).await?).then(|| {
        eprintln!("autovacuum is off on this server: the bench analyzes the tables every 5 s while loading, as autovacuum would");
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if let Err(e) = db.execute_unprepared("ANALYZE bug_reports, bug_counts, bug_metrics").await {
                    eprintln!("analyze failed: {e}");
                }
            }
        })
    });
    let loaded = db
        .query_one(Statement::from_sql_and_values(
            db.get_database_backend(),
            if backend == "PostgreSQL" {
                "SELECT COUNT(*) FROM bug_reports WHERE company_id = $1"
            } else {
                "SELECT COUNT(*) FROM bug_reports WHERE company_id = ?"
            },
            [Value::from(COMPANY)],
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let reuse = loaded as usize >= args.bugs;
    let (load_time, updates) = if reuse {
        eprintln!("the database already holds {loaded} bugs: measuring on them (no load figures)");
        (Duration::ZERO, 0)
    } else {
        load(&channel, &token, &clock, end, args.bugs, args.concurrency).await?
    };
    if let Some(task) = analyzer {
        task.abort();
    }
    eprintln!("loaded {} bugs and {updates} status updates in {:.1} s", args.bugs, load_time.as_secs_f64());
    if !reuse {
        let comments_time = load_comments(&db, args.bugs, args.comments, end).await?;
        eprintln!("loaded {} comments in {:.1} s", args.comments, comments_time.as_secs_f64());
    }
    if backend == "PostgreSQL" {
        // What autovacuum would do after a bulk load: fresh planner statistics.
        db.execute_unprepared("ANALYZE").await?;
    }
    clock.set(end);

    let client = BugServiceClient::new(channel.clone());
    let mut rng = StdRng::seed_from_u64(7);
    // Searches: common words (many matches), rare words (a few), and words in no bug.
    let queries: Vec<String> = (0..args.samples)
        .map(|i| match i % 3 {
            0 => pick(&mut rng, &WORDS[..WORDS.len() - RARE]).to_owned(),
            1 => pick(&mut rng, &WORDS[WORDS.len() - RARE..]).to_owned(),
            _ => format!("nomatch{i}"),
        })
        .collect();
    let search = sample(args.samples, |i| {
        let mut c = client.clone();
        let r = pb::ListBugsRequest {
            query: Some(queries[i].clone()),
            page: Some(PageRequest { page: 1, per_page: 20 }),
            ..Default::default()
        };
        let r = kit::grpc::request(r, &token);
        async move { c.list_bugs(r).await.map(|_| ()) }
    })
    .await?;
    let filtered = sample(args.samples, |i| {
        let mut c = client.clone();
        let r = match i % 3 {
            0 => pb::ListBugsRequest {
                statuses: vec![pb::Status::Open as i32],
                severities: vec![pb::Severity::Critical as i32],
                ..Default::default()
            },
            1 => pb::ListBugsRequest {
                category: Some(CATEGORIES[i % CATEGORIES.len()].into()),
                assignee: Some(ASSIGNEES[i % 5].into()),
                ..Default::default()
            },
            _ => {
                pb::ListBugsRequest { tag: Some(TAGS[i % TAGS.len()].into()), environment: Some("production".into()), ..Default::default() }
            }
        };
        let r = kit::grpc::request(r, &token);
        async move { c.list_bugs(r).await.map(|_| ()) }
    })
    .await?;
    let summary = sample(args.samples, |_| {
        let mut c = client.clone();
        let r = kit::grpc::request(pb::MetricsSummaryRequest {}, &token);
        async move { c.metrics_summary(r).await.map(|_| ()) }
    })
    .await?;
    let trends = sample(args.samples, |_| {
        let mut c = client.clone();
        let r = kit::grpc::request(pb::TrendsRequest { days: 30 }, &token);
        async move { c.trends(r).await.map(|_| ()) }
    })
    .await?;
    let (group_rate, group_lat) = grouping(&channel, &token, args.bugs, args.concurrency, Duration::from_secs(10)).await?;

    let ms = |v: &[f64]| format!("{:.1} | {:.1}", percentile(v, 0.5), percentile(v, 0.99));
    println!("| backend | request ({} samples each) | p50 ms | p99 ms |", args.samples);
    println!("|---|---|---|---|");
    for (name, lat) in [
        ("ListBugs, text search (common, rare, absent words)", &search),
        ("ListBugs, two filters", &filtered),
        ("MetricsSummary", &summary),
        ("Trends(30)", &trends),
    ] {
        println!("| {backend} | {name} | {} |", ms(lat));
    }
    println!();
    println!("| backend | clients | load: bugs/s (with {updates} status updates) | grouping: reports/s | grouping p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    let load_rate = if reuse { "(reused)".to_owned() } else { format!("{:.0}", args.bugs as f64 / load_time.as_secs_f64()) };
    println!("| {backend} | {} | {load_rate} | {group_rate:.0} | {} |", args.concurrency, ms(&group_lat));
    life.shutdown();
    let _ = server.await;
    Ok(())
}
