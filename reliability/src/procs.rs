//! The mesh as separate `atmr serve <component>` processes, as in a cluster:
//! each on its own loopback ports, with its own database, killed or stopped
//! and started again by the scenarios.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context as _, bail};
use kit::Component;
use serde_json::{Value, json};

use crate::proxy::Proxy;

pub const ADMIN_EMAIL: &str = "admin@reliability.test";
pub const ADMIN_PASSWORD: &str = "reliability-admin-password";
/// How long a process gets to become ready; generous for a loaded 2-core machine.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The gateway's drain deadline and pre-stop delay in this harness.
pub const DRAIN: Duration = Duration::from_millis(3_000);
pub const PRE_STOP: Duration = Duration::from_millis(500);

/// Where the components keep their data.
pub enum Backend {
    /// SQLite files and the in-process cache: the laptop defaults.
    Embedded,
    /// One PostgreSQL database per component and Redis, each behind a proxy the
    /// scenarios can cut.
    Postgres { databases: Vec<kit::testing::TestDb>, postgres: Proxy, redis: Proxy },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded (SQLite, in-process cache)",
            Self::Postgres { .. } => "PostgreSQL + Redis",
        }
    }

    /// PostgreSQL and Redis from `TEST_DATABASE_URL` and `TEST_REDIS_URL`,
    /// each reached through a proxy.
    pub async fn postgres(database_url: &str, redis_url: &str) -> anyhow::Result<Self> {
        let mut databases = Vec::new();
        // TestDb creates a fresh database per component from TEST_DATABASE_URL
        // (the same URL as `database_url`) and drops it at the end.
        for _ in Component::ALL {
            databases.push(kit::testing::TestDb::new(kit::testing::TestBackend::Postgres).await.context("creating a PostgreSQL database")?);
        }
        let postgres = Proxy::start(authority(database_url).context("TEST_DATABASE_URL has no host:port")?).await?;
        let redis = Proxy::start(authority(redis_url).context("TEST_REDIS_URL has no host:port")?).await?;
        Ok(Self::Postgres { databases, postgres, redis })
    }
}

/// `host:port` of a URL such as `postgres://user@127.0.0.1:5432/db`.
fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = &rest[..end];
    if host.contains(':') { Some(host.to_owned()) } else { None }
}

/// `url` with its `host:port` replaced by `to`.
fn reroute(url: &str, to: &str) -> String {
    let from = authority(url).expect("checked in Backend::postgres");
    url.replacen(&from, to, 1)
}

/// One `atmr serve` process; killed when dropped. Its output goes to a file
/// the report points at when something fails.
pub struct Proc {
    child: tokio::process::Child,
    pub log: PathBuf,
}

impl Proc {
    /// kill -9: no shutdown, no flushing, as a node failure.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// SIGTERM, as Kubernetes sends; returns the exit status and how long the exit took.
    pub async fn terminate(mut self) -> anyhow::Result<(std::process::ExitStatus, Duration)> {
        let pid = self.child.id().context("already exited")?.to_string();
        let started = std::time::Instant::now();
        std::process::Command::new("kill").args(["-TERM", &pid]).status()?;
        let status = tokio::time::timeout(PATIENCE, self.child.wait()).await.context("still running after SIGTERM")??;
        Ok((status, started.elapsed()))
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines of its log.
    pub fn tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(lines).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

/// The five components, each its own process.
pub struct Mesh {
    pub atmr: PathBuf,
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
    /// (gRPC or HTTP port, admin port) per component.
    pub ports: BTreeMap<Component, (u16, u16)>,
    pub procs: BTreeMap<Component, Proc>,
    pub backend: Backend,
    pub http: reqwest::Client,
    /// How many times each component was started, for log file names.
    starts: BTreeMap<Component, usize>,
}

impl Mesh {
    /// Starts every component and waits until the gateway is ready.
    pub async fn start(atmr: &Path, backend: Backend) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let ports: BTreeMap<Component, (u16, u16)> =
            Component::ALL.iter().map(|c| (*c, (kit::testing::free_port(), kit::testing::free_port()))).collect();
        // Every key where each component looks by default ($ATMR_DATA_DIR/keys),
        // fresh for this run.
        kit::auth::keys::generate_dir(&dir.path().join("keys"))?;
        let mut env = BTreeMap::from([
            ("ATMR_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("ATMR_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("ATMR_DATA_DIR", dir.path().display().to_string()),
            ("SAFETY_AUDIT_SIGNING_KEY", "5".repeat(64)),
            ("RUST_LOG", "warn".to_owned()),
            // Load comes from one address and one account: the limits are
            // exercised by their own scenario, not by the workload.
            ("ATMR_LOGIN_RATE_PER_MINUTE", "10000".to_owned()),
            // The workload signs in once and runs longer than the default 5-minute access token.
            ("ATMR_TOKEN_TTL_SECS", "7200".to_owned()),
            ("ATMR_RATE_LIMIT_PER_MINUTE", "6000000".to_owned()),
            ("ATMR_RATE_LIMIT_BURST", "100000".to_owned()),
            // Recover within the scenarios' patience.
            ("ATMR_BREAKER_COOLDOWN_MS", "500".to_owned()),
            ("ATMR_PRE_STOP_DELAY_MS", PRE_STOP.as_millis().to_string()),
            ("ATMR_DRAIN_DEADLINE_MS", DRAIN.as_millis().to_string()),
            // A killed worker's claims expire soon; failed sends retry soon.
            ("NOTIFY_LEASE_SECS", "2".to_owned()),
            ("NOTIFY_POLL_MS", "100".to_owned()),
            ("NOTIFY_BATCH", "4".to_owned()),
            ("NOTIFY_BACKOFF_BASE_MS", "200".to_owned()),
            ("NOTIFY_BACKOFF_MAX_SECS", "2".to_owned()),
            // The harness's webhook receiver and monitor targets listen on
            // 127.0.0.1, which notify refuses unless the operator allows it;
            // the rest of loopback stays refused (see `security_egress`).
            ("NOTIFY_EGRESS_ALLOW", "127.0.0.1/32".to_owned()),
        ])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect::<BTreeMap<_, _>>();
        for (component, (port, admin)) in &ports {
            let up = component.env_prefix();
            env.insert(format!("{up}_LISTEN_ADDR"), format!("127.0.0.1:{port}"));
            env.insert(format!("{up}_ADMIN_ADDR"), format!("127.0.0.1:{admin}"));
            env.insert(format!("{up}_URL"), format!("http://127.0.0.1:{port}"));
        }
        match &backend {
            Backend::Embedded => {}
            Backend::Postgres { databases, postgres, redis } => {
                for (component, db) in Component::ALL.iter().zip(databases) {
                    env.insert(format!("{}_DATABASE_URL", component.env_prefix()), reroute(&db.url, &postgres.addr()));
                }
                env.insert("REDIS_URL".into(), format!("redis://{}", redis.addr()));
            }
        }
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
        let mut mesh = Self { atmr: atmr.to_owned(), dir, env, ports, procs: BTreeMap::new(), backend, http, starts: BTreeMap::new() };
        for component in Component::ALL {
            mesh.spawn(component)?;
        }
        for component in Component::ALL {
            mesh.wait_ready(component).await?;
        }
        Ok(mesh)
    }

    fn spawn(&mut self, component: Component) -> anyhow::Result<()> {
        let n = self.starts.entry(component).or_default();
        *n += 1;
        let log = self.dir.path().join(format!("{component}.{n}.log"));
        let out = std::fs::File::create(&log)?;
        let child = tokio::process::Command::new(&self.atmr)
            .args(["serve", component.name()])
            .env_clear()
            .envs(&self.env)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.atmr.display()))?;
        self.procs.insert(component, Proc { child, log });
        Ok(())
    }

    /// Starts `component` again on the same ports and database.
    pub async fn restart(&mut self, component: Component) -> anyhow::Result<()> {
        self.spawn(component)?;
        self.wait_ready(component).await
    }

    /// Takes `component`'s process out of the mesh (to kill or stop it).
    pub fn take(&mut self, component: Component) -> Proc {
        self.procs.remove(&component).expect("the component runs")
    }

    pub fn gateway(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[&Component::Gateway].0)
    }

    pub fn admin_url(&self, component: Component) -> String {
        format!("http://127.0.0.1:{}", self.ports[&component].1)
    }

    pub fn grpc_url(&self, component: Component) -> String {
        format!("http://127.0.0.1:{}", self.ports[&component].0)
    }

    /// The gateway's user-token key of this run (for tokens the gateway
    /// would sign, and forged ones).
    pub fn user_key(&self) -> kit::auth::KeyPair {
        kit::auth::KeyPair::read(&self.dir.path().join("keys").join(kit::auth::keys::files::USER_TOKEN_KEY))
            .expect("the run's user-token key was generated at start")
    }

    /// Waits until `component` reports ready on its admin port.
    pub async fn wait_ready(&mut self, component: Component) -> anyhow::Result<()> {
        let url = format!("{}/health/ready", self.admin_url(component));
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(res) = self.http.get(&url).timeout(Duration::from_secs(2)).send().await
                && res.status().is_success()
            {
                return Ok(());
            }
            let proc = self.procs.get_mut(&component).expect("started");
            if !proc.running() {
                bail!("{component} exited while starting:\n{}", proc.tail(30));
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{component} not ready after {PATIENCE:?}:\n{}", proc.tail(30));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The bootstrapped admin's token.
    pub async fn admin_token(&self) -> anyhow::Result<String> {
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.gateway()))
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await?;
        let body: Value = res.json().await?;
        body["access_token"].as_str().map(str::to_owned).with_context(|| format!("login refused: {body}"))
    }

    /// A token signed with the gateway's key for any company and role.
    pub fn token(&self, company: i64, role: kit::auth::Role) -> String {
        // A driver's token names a driver (whether or not it exists here): a
        // driver's routes then answer as for a driver, not as for a token
        // that names none.
        let driver_id = (role == kit::auth::Role::Driver).then_some(1);
        let holder =
            kit::auth::Holder { subject: "9001", email: "sweep@reliability.test", company_id: company, role, generation: 0, driver_id };
        kit::auth::UserTokenIssuer::new(self.user_key(), Vec::new()).issue_to(&holder, Duration::from_secs(3600))
    }

    /// Keeps the logs (and SQLite files) after the run, for a failure to be read.
    pub fn keep_logs(self) -> PathBuf {
        self.dir.keep()
    }

    /// Components whose log shows a panic.
    pub fn panics(&self) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") && std::fs::read_to_string(&path).unwrap_or_default().contains("panicked") {
                found.push(path.file_name().unwrap_or_default().to_string_lossy().into_owned());
            }
        }
        found
    }
}
