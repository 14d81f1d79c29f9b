//! The launcher: one binary that runs any set of atmr components (the
//! single-binary pattern of Loki or Quickwit). `up` runs all five in one process,
//! each on its own port and talking real gRPC to the others; `serve` runs one,
//! as a Kubernetes pod does; `migrate` manages the schemas; `company create`
//! (`company.rs`) asks a running gateway for a new company as the platform
//! operator; `audit verify` (`audit.rs`) checks a safety database against its
//! exported checkpoints, offline; `backup` and `restore` (`backup/`) copy every
//! database out and back with a manifest of checksums; `monitors check` checks
//! the operator's monitors file as notify's start would. Signals are caught here once and turned into one shutdown for
//! every component. The command line itself is declared in `cli.rs`.

pub mod audit;
pub mod backup;
mod cli;
pub mod company;

pub use cli::{AuditAction, Cli, Command, CompanyAction, KeysAction, MigrateAction, MonitorsAction};

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use kit::{Component, Env, Lifecycle, Listeners, telemetry::LogFormat};

/// Runs the command and turns its outcome into an exit code, printing a failure
/// as one line.
pub fn main(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, Env::from_process())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cli` with the environment `env`.
pub async fn run(cli: Cli, mut env: Env) -> anyhow::Result<()> {
    let format = match env.get("ATMR_LOG_FORMAT").unwrap_or("text") {
        "json" => LogFormat::Json,
        "text" => LogFormat::Text,
        other => return Err(kit::ConfigError::new("ATMR_LOG_FORMAT", other, "text or json").into()),
    };
    match cli.command {
        Command::Up { demo: with_demo } => {
            prepare_local_keys(&mut env)?;
            let _telemetry = kit::telemetry::init("atmr", env.get("OTEL_EXPORTER_OTLP_ENDPOINT"), format)?;
            if with_demo {
                demo(&env).await?;
            }
            up(env).await
        }
        Command::Demo => {
            prepare_local_keys(&mut env)?;
            demo(&env).await
        }
        Command::Serve { component } => {
            let _telemetry = kit::telemetry::init(&format!("atmr-{component}"), env.get("OTEL_EXPORTER_OTLP_ENDPOINT"), format)?;
            let cfg = kit::ServiceConfig::from_env(component, &env)?;
            let listeners = Listeners::bind(cfg.listen_addr, cfg.admin_addr).await?;
            let life = Lifecycle::new();
            tokio::spawn({
                let life = life.clone();
                async move {
                    kit::lifecycle::shutdown_signal().await;
                    life.shutdown();
                }
            });
            serve(component, &env, listeners, life).await
        }
        Command::Migrate { action } => migrate(action, &env).await,
        Command::Probe { url, timeout_ms } => probe(&url, std::time::Duration::from_millis(timeout_ms)).await,
        Command::Keys { action: KeysAction::Generate { dir } } => {
            let written = kit::auth::keys::generate_dir(&dir).with_context(|| format!("cannot write keys into {}", dir.display()))?;
            if written.is_empty() {
                println!("every key is already in {}; nothing written", dir.display());
            }
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Company { action: CompanyAction::Create(args) } => {
            // Printed on the terminal only, never through `tracing`.
            println!("{}", company::create(&args, &env).await?.lines());
            Ok(())
        }
        Command::Audit { action: AuditAction::Verify(args) } => audit::verify(&args).await,
        Command::Backup(args) => {
            let written = backup::backup(&args, &env, chrono::Utc::now()).await?;
            println!("backup written to {}", written.dir.display());
            for db in &written.manifest.databases {
                let rows: u64 = db.tables.iter().map(|t| t.rows).sum();
                let bytes: u64 = db.files.iter().map(|f| f.bytes).sum();
                let versions: Vec<String> = db.schema_versions.iter().map(|(c, v)| format!("{c} at {v}")).collect();
                println!("  {}: {} tables, {rows} rows, {bytes} bytes", versions.join(", "), db.tables.len());
            }
            for old in &written.removed {
                println!("removed {} (past the retention)", old.display());
            }
            Ok(())
        }
        Command::Restore(args) => {
            let manifest = backup::restore(&args, &env).await?;
            println!("restored the backup of {} from {}", manifest.created_at, args.from.display());
            Ok(())
        }
        Command::Monitors { action: MonitorsAction::Check { files } } => {
            let egress = atmr_notify::Egress::from_env(&env)?;
            for file in files {
                let doc = atmr_notify::check_monitors_file(&file, &egress)?;
                let count = |f: fn(&atmr_notify::CompanyDecl) -> usize| doc.companies.iter().map(f).sum::<usize>();
                println!(
                    "{}: {} companies, {} monitors, {} channels, {} routes, {} maintenance windows",
                    file.display(),
                    doc.companies.len(),
                    count(|c| c.monitors.len()),
                    count(|c| c.channels.len()),
                    count(|c| c.routes.len()),
                    count(|c| c.windows.len()),
                );
            }
            Ok(())
        }
    }
}

async fn probe(url: &str, timeout: std::time::Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    let response = client.get(url).send().await.with_context(|| format!("{url} did not answer"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {}", response.text().await.unwrap_or_default().trim());
    Ok(())
}

/// Runs `component` with the configuration in `env`.
pub async fn serve(component: Component, env: &Env, listeners: Listeners, life: Lifecycle) -> anyhow::Result<()> {
    match component {
        Component::Dispatch => atmr_dispatch::serve(atmr_dispatch::Config::from_env(env)?, listeners, life).await,
        Component::Safety => atmr_safety::serve(atmr_safety::Config::from_env(env)?, listeners, life).await,
        Component::Bugs => atmr_bugs::serve(atmr_bugs::Config::from_env(env)?, listeners, life).await,
        Component::Notify => atmr_notify::serve(atmr_notify::Config::from_env(env)?, listeners, life).await,
        Component::Gateway => atmr_gateway::serve(atmr_gateway::Config::from_env(env)?, listeners, life).await,
    }
    .with_context(|| format!("{component} failed"))
}

/// In `up`, every key is generated into the data directory's `keys/` on
/// first start (see `atmr keys generate`), where each component's defaults
/// look, so no key is ever committed and tokens survive restarts. One process
/// holds them all here; a deployment gives each component only its own.
fn prepare_local_keys(env: &mut Env) -> anyhow::Result<()> {
    let dir = PathBuf::from(env.get("ATMR_DATA_DIR").unwrap_or("data")).join("keys");
    kit::auth::keys::generate_dir(&dir).with_context(|| format!("cannot write keys into {}", dir.display()))?;
    if env.get("SAFETY_AUDIT_SIGNING_KEY").is_none() {
        let path = dir.join(kit::auth::keys::files::SAFETY_AUDIT_KEY);
        let seed = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        env.set("SAFETY_AUDIT_SIGNING_KEY", seed.trim());
    }
    Ok(())
}

/// A monitor target per component: the gateway's readiness over HTTP, the
/// services' `grpc.health.v1`. Unspecified listen addresses are watched on loopback.
fn mesh_monitors(bound: &[(Component, kit::ServiceConfig, Listeners)]) -> Vec<atmr_notify::MeshTarget> {
    bound
        .iter()
        .map(|(component, cfg, _)| {
            let mut addr = cfg.listen_addr;
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let grpc = *component != Component::Gateway;
            atmr_notify::MeshTarget {
                name: component.name().to_owned(),
                target: if grpc { addr.to_string() } else { format!("http://{addr}/health/ready") },
                grpc,
            }
        })
        .collect()
}

/// Every component in this process until Ctrl-C or SIGTERM.
pub async fn up(mut env: Env) -> anyhow::Result<()> {
    // Private targets stay refused here too: the mesh's monitors of its own
    // components are registered as internal (`register_mesh_monitors`), the
    // only monitors that reach loopback without NOTIFY_EGRESS_ALLOW.
    // The services read the gateway's keys and revocations where it listens.
    let mut gateway_addr = kit::ServiceConfig::from_env(Component::Gateway, &env)?.listen_addr;
    if gateway_addr.ip().is_unspecified() {
        gateway_addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    env.set_default("GATEWAY_URL", format!("http://{gateway_addr}"));
    let configs = Component::ALL.map(|c| kit::ServiceConfig::from_env(c, &env).map(|cfg| (c, cfg)));
    let mut bound = Vec::new();
    for cfg in configs {
        let (component, cfg) = cfg?;
        let listeners = Listeners::bind(cfg.listen_addr, cfg.admin_addr).await.with_context(|| format!("{component}"))?;
        bound.push((component, cfg, listeners));
    }

    // The first admin is created before start so its login can be printed here.
    let gateway_cfg = atmr_gateway::Config::from_env(&env)?;
    let login = first_admin(&gateway_cfg).await?;
    // The mesh watches itself: a monitor per component for the first company,
    // applied by name on every start as notify applies ATMR_MONITORS_FILE.
    let watched = mesh_monitors(&bound);
    let notify_db = &bound.iter().find(|(c, ..)| *c == Component::Notify).expect("notify is a component").1.database_url;
    let registered = atmr_notify::register_mesh_monitors(notify_db, atmr_gateway::users::FIRST_COMPANY_ID, &watched).await?;

    let root = Lifecycle::new();
    let mut tasks = futures::stream::FuturesUnordered::new();
    let mut lives = Vec::new();
    let mut lines = Vec::new();
    for (component, cfg, listeners) in bound {
        let life = root.child();
        lives.push((component, life.clone()));
        let main_url = format!("{}://{}", if component == Component::Gateway { "http" } else { "grpc" }, cfg.listen_addr);
        lines.push(format!("  {:<9} {:<24} admin http://{}", component.name(), main_url, cfg.admin_addr));
        let env = env.clone();
        tasks.push(tokio::spawn(async move { (component, serve(component, &env, listeners, life).await) }));
    }

    let gateway_addr = gateway_cfg.service.listen_addr;
    println!("atmr is starting; components:");
    for line in &lines {
        println!("{line}");
    }
    println!("gateway:  http://{gateway_addr}   (readiness: http://{gateway_addr}/health/ready)");
    println!("{}", login_line(login.as_ref()));
    if registered > 0 {
        println!("{registered} uptime monitors created to watch the components (MonitorService, notify)");
    }
    println!("stop with Ctrl-C");

    tokio::spawn({
        let root = root.clone();
        let lives = lives.clone();
        async move {
            for (component, life) in lives {
                if life.ready().await {
                    tracing::info!(component = %component, "component ready");
                }
            }
            if !root.is_shutting_down() {
                println!("atmr is ready: every component reports ready");
            }
        }
    });

    let mut failure = None;
    loop {
        tokio::select! {
            () = kit::lifecycle::shutdown_signal(), if !root.is_shutting_down() => {
                println!("stopping…");
                root.shutdown();
            }
            next = futures::StreamExt::next(&mut tasks) => match next {
                None => break,
                Some(Ok((component, Ok(())))) => {
                    if !root.is_shutting_down() {
                        failure.get_or_insert_with(|| anyhow::anyhow!("{component} stopped unexpectedly"));
                        root.shutdown();
                    }
                }
                Some(Ok((_, Err(e)))) => {
                    eprintln!("error: {e:#}");
                    failure.get_or_insert(e);
                    root.shutdown();
                }
                Some(Err(join)) => {
                    failure.get_or_insert_with(|| anyhow::anyhow!("a component panicked: {join}"));
                    root.shutdown();
                }
            },
        }
    }
    match failure {
        Some(e) => Err(e),
        None => {
            println!("atmr stopped");
            Ok(())
        }
    }
}

/// Creates the first admin for `up` when there is none: with the password of
/// `ATMR_ADMIN_PASSWORD`, else a generated one that only [`login_line`] shows,
/// on the terminal (never through `tracing`, whose output is shipped); with
/// `ATMR_ENV=production` and no password, an error naming the variable.
pub async fn first_admin(cfg: &atmr_gateway::Config) -> anyhow::Result<Option<atmr_gateway::users::BootstrapLogin>> {
    let db = kit::db::connect(&cfg.service.database_url).await?;
    atmr_migrations::run("gateway", atmr_migrations::Operation::Up, &db).await?;
    let without = atmr_gateway::users::WithoutPassword::for_up(cfg.service.deployment);
    let login = atmr_gateway::users::ensure_admin(&db, cfg.admin_email.as_deref(), cfg.admin_password.as_deref(), without).await;
    db.close().await?;
    login
}

/// `atmr migrate stamp`: records `component`'s migrations up to `version` as applied.
async fn stamp(component: Component, version: &str, env: &Env) -> anyhow::Result<()> {
    let cfg = kit::ServiceConfig::from_env(component, env)?;
    let db = kit::db::connect(&cfg.database_url).await?;
    let stamped = atmr_migrations::stamp(component.name(), version, &db).await;
    db.close().await?;
    let stamped = stamped?;
    println!("{component} ({}): {} migrations recorded as applied, up to {version}", kit::db::redact(&cfg.database_url), stamped.len());
    for name in stamped {
        println!("  [stamped] {name}");
    }
    Ok(())
}

/// The line `up` prints about the admin login; the one place a generated password is shown.
pub fn login_line(login: Option<&atmr_gateway::users::BootstrapLogin>) -> String {
    match login {
        Some(l) => match &l.generated_password {
            Some(p) => format!("first start: admin login {} / {p}   (shown once; set ATMR_ADMIN_PASSWORD to choose it)", l.email),
            None => format!("first start: admin login {} with the password from ATMR_ADMIN_PASSWORD", l.email),
        },
        None => "log in with an existing account (the first admin was created on an earlier start)".to_owned(),
    }
}

/// The demo company's e-mail of the dispatcher login `atmr demo` creates.
pub const DEMO_DISPATCHER: &str = "dispatcher@demo.atmr.local";

/// Seeds the demo data for tomorrow (Europe/Zurich) in the first company and
/// prints what it created and the dispatcher login.
pub async fn demo(env: &Env) -> anyhow::Result<()> {
    let company = atmr_gateway::users::FIRST_COMPANY_ID;
    let dispatch = atmr_dispatch::Config::from_env(env)?;
    let db = kit::db::connect(&dispatch.service.database_url).await?;
    atmr_migrations::run("dispatch", atmr_migrations::Operation::Up, &db).await?;
    let tomorrow = (chrono::Utc::now().with_timezone(&dispatch.default_tz) + chrono::Duration::days(1)).date_naive();
    let seeded = atmr_dispatch::demo::seed(&db, company, tomorrow).await?;
    db.close().await?;

    let gateway = atmr_gateway::Config::from_env(env)?;
    let db = kit::db::connect(&gateway.service.database_url).await?;
    atmr_migrations::run("gateway", atmr_migrations::Operation::Up, &db).await?;
    let password = atmr_gateway::users::ensure_user(&db, DEMO_DISPATCHER, kit::auth::Role::Dispatcher, company).await?;
    db.close().await?;

    println!(
        "demo data for {tomorrow}: created {} drivers, {} patients, {} bookings (existing data is kept, not duplicated)",
        seeded.drivers, seeded.patients, seeded.bookings
    );
    match password {
        Some(p) => println!("dispatcher login: {DEMO_DISPATCHER} / {p}   (shown once)"),
        None => println!("dispatcher login: {DEMO_DISPATCHER} (created earlier; its password was shown then)"),
    }
    println!("plan the day: POST /api/dispatch/runs {{\"service_day\": \"{tomorrow}\"}} through the gateway, or RunDispatch over gRPC");
    Ok(())
}

async fn migrate(action: MigrateAction, env: &Env) -> anyhow::Result<()> {
    use atmr_migrations::Operation;
    let (components, op): (Vec<Component>, Operation) = match action {
        MigrateAction::Stamp { component, migration } => return stamp(component, &migration, env).await,
        MigrateAction::Up { component } => (component.map_or_else(|| Component::ALL.to_vec(), |c| vec![c]), Operation::Up),
        MigrateAction::Down { component, steps } => (vec![component], Operation::Down(steps)),
        MigrateAction::Status { component } => (component.map_or_else(|| Component::ALL.to_vec(), |c| vec![c]), Operation::Status),
    };
    for component in components {
        let cfg = kit::ServiceConfig::from_env(component, env)?;
        let db = kit::db::connect(&cfg.database_url).await?;
        let states = atmr_migrations::run(component.name(), op, &db).await.with_context(|| format!("{component} migrations"))?;
        println!("{component} ({})", kit::db::redact(&cfg.database_url));
        if states.is_empty() {
            println!("  no migrations yet");
        }
        for m in states {
            println!("  [{}] {}", if m.applied { "applied" } else { "pending" }, m.name);
        }
        db.close().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let stamp = Cli::try_parse_from(["atmr", "migrate", "stamp", "bugs", "m0001_bug_tracking"]).unwrap();
        assert!(matches!(stamp.command, Command::Migrate { action: MigrateAction::Stamp { component: Component::Bugs, .. } }));
        let backup = Cli::try_parse_from(["atmr", "backup", "--to", "/b", "--component", "safety", "--keep", "3"]).unwrap();
        assert!(matches!(backup.command, Command::Backup(a) if a.components == [Component::Safety] && a.keep == Some(3)));
    }
}
