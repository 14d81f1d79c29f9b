//! The deployment files against the real binary, each component its own process
//! as in a pod: every probe the Kubernetes manifests declare is served on the
//! port they name, the migration Job's command is what makes components start
//! and the backup CronJob's backs each one up (the trace a REST call leaves
//! across these processes is `deploy_trace.rs`).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use serde_yaml_ng::Value as Yaml;

use crate::mesh::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// How long a process gets to answer a probe; generous for a loaded CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One `atmr` process, killed when dropped; its output goes to a file that a
/// failing test prints.
pub(crate) struct Proc {
    name: String,
    child: tokio::process::Child,
    log: PathBuf,
}

impl Proc {
    pub(crate) fn start(name: &str, args: &[&str], env: &BTreeMap<String, String>, dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_atmr"))
            .args(args)
            .env_clear()
            .envs(env)
            .env("RUST_LOG", "info")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        Self { name: name.to_owned(), child, log }
    }

    pub(crate) fn output(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        format!("--- {} ---\n{}", self.name, tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
    }

    /// SIGTERM, as Kubernetes sends, then the exit status.
    pub(crate) async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        tokio::time::timeout(PATIENCE, self.child.wait()).await.expect("exits after SIGTERM").unwrap()
    }
}

/// Polls `probe` until it succeeds or `PATIENCE` runs out, then panics with the
/// last failure and the processes' output.
pub(crate) async fn eventually<F, Fut>(what: &str, procs: &[&Proc], mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let last = match probe().await {
            Ok(()) => return,
            Err(e) => e,
        };
        if tokio::time::Instant::now() > deadline {
            let logs: Vec<String> = procs.iter().map(|p| p.output()).collect();
            panic!("{what}: {last}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn http_ok(url: String) -> Result<(), String> {
    let res = reqwest::get(&url).await.map_err(|e| e.to_string())?;
    if res.status().is_success() { Ok(()) } else { Err(format!("{url}: {}", res.status())) }
}

async fn grpc_serving(port: u16, service: &str) -> Result<(), String> {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let mut client = HealthClient::new(channel);
    let status = client.check(HealthCheckRequest { service: service.to_owned() }).await.map_err(|s| s.to_string())?;
    match status.into_inner().status() {
        ServingStatus::Serving => Ok(()),
        other => Err(format!("grpc health {other:?}")),
    }
}

/// Every document of the kustomize base, in the order of its `resources`.
fn base_documents() -> Vec<Yaml> {
    use serde::Deserialize as _;
    let base = repo_root().join("deploy/k8s/base");
    let kustomization: Yaml = serde_yaml_ng::from_str(&std::fs::read_to_string(base.join("kustomization.yaml")).unwrap()).unwrap();
    let mut docs = Vec::new();
    for file in kustomization["resources"].as_sequence().unwrap() {
        let text = std::fs::read_to_string(base.join(file.as_str().unwrap())).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            docs.push(Yaml::deserialize(doc).unwrap());
        }
    }
    docs
}

fn of_kind<'a>(docs: &'a [Yaml], kind: &str) -> impl Iterator<Item = &'a Yaml> {
    docs.iter().filter(move |d| d["kind"].as_str() == Some(kind))
}

fn text(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn port_of(v: &Yaml) -> u16 {
    v.as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or_else(|| panic!("probes name ports by number: {v:?}"))
}

/// A container's environment as the pod would see it, with what the Secret
/// would hold in a real cluster; every `0.0.0.0:P` listen address moves to a
/// free loopback port and every `http://<component>:P` address (a Service) to
/// the same port, through `ports` (manifest port → real port, shared by all
/// pods). Returns the environment and the manifest ports the pod listens on.
fn pod_env(
    config: &Yaml,
    container: &Yaml,
    secrets: &Secrets,
    ports: &mut BTreeMap<u16, u16>,
) -> (BTreeMap<String, String>, BTreeSet<u16>) {
    let mut env: BTreeMap<String, String> = config["data"].as_mapping().unwrap().iter().map(|(k, v)| (text(k), text(v))).collect();
    for var in container["env"].as_sequence().into_iter().flatten() {
        let name = text(&var["name"]);
        let value = match var["valueFrom"]["secretKeyRef"].as_mapping() {
            Some(r) => {
                let (secret, key) = (text(&r[&Yaml::from("name")]), text(&r[&Yaml::from("key")]));
                let optional = r.get(Yaml::from("optional")).and_then(Yaml::as_bool).unwrap_or(false);
                let found = secrets.values.get(&secret).and_then(|keys| keys.get(&key)).cloned();
                assert!(found.is_some() || optional, "{name}: the Secret {secret} has no {key} in the template");
                match found.filter(|v| !v.is_empty()) {
                    Some(v) => v,
                    // An optional key left empty: Kubernetes leaves the variable unset.
                    None => continue,
                }
            }
            None if var["valueFrom"]["fieldRef"]["fieldPath"].as_str() == Some("metadata.name") => {
                format!("{}-0", text(&container["name"]))
            }
            None => expand(&text(&var["value"]), &env),
        };
        env.insert(name, value);
    }
    let mut listens = BTreeSet::new();
    for (name, value) in env.iter_mut() {
        if name.ends_with("_DATABASE_URL") {
            // The manifest's PostgreSQL role and database, as a SQLite file here.
            let component = name.trim_end_matches("_DATABASE_URL").to_lowercase();
            *value = format!("sqlite://{}?mode=rwc", secrets.dir.join(format!("{component}.db")).display());
        } else if let Some(file) = value.strip_prefix("/etc/atmr/keys/") {
            *value = secrets.dir.join("keys").join(file).display().to_string();
        } else if let Some(file) = value.strip_prefix("/var/lib/atmr/") {
            // A persistent volume: a directory of this run.
            let path = secrets.dir.join("volumes").join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            *value = path.display().to_string();
        } else if let Some(file) = value.strip_prefix("/etc/atmr/monitors/") {
            // The atmr-monitors ConfigMap's file, reading atmr-notify's ops-discord-url (at /etc/atmr/ops) from keys/.
            let keys = secrets.dir.join("keys");
            std::fs::write(keys.join("ops-discord-url"), &secrets.values["atmr-notify"]["ops-discord-url"]).unwrap();
            let text = std::fs::read_to_string(repo_root().join("deploy/k8s/base").join(file)).unwrap();
            *value = secrets.dir.join(file).display().to_string();
            std::fs::write(&*value, text.replace("/etc/atmr/ops/", &format!("{}/", keys.display()))).unwrap();
        } else if value == "/etc/atmr/peer-keys" {
            *value = secrets.dir.join("keys").display().to_string();
        } else if let Some(port) = value.strip_prefix("0.0.0.0:") {
            let port: u16 = port.parse().unwrap();
            listens.insert(port);
            *value = format!("127.0.0.1:{}", ports.entry(port).or_insert_with(kit::testing::free_port));
        } else if let Some((host, rest)) = value.strip_prefix("http://").and_then(|rest| rest.split_once(':'))
            && components().contains(&host)
        {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let (port, path) = rest.split_at(digits);
            let port: u16 = port.parse().unwrap();
            *value = format!("http://127.0.0.1:{}{path}", ports.entry(port).or_insert_with(kit::testing::free_port));
        }
    }
    (env, listens)
}

/// `$(VAR)` references, as Kubernetes expands them from the variables before.
fn expand(value: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = value.to_owned();
    for (k, v) in env {
        out = out.replace(&format!("$({k})"), v);
    }
    out
}

#[tokio::test]
async fn every_probe_in_the_manifests_is_served_once_the_migration_job_ran() {
    let docs = base_documents();
    let config = of_kind(&docs, "ConfigMap").next().expect("a ConfigMap");
    let dir = tempfile::tempdir().unwrap();
    let secrets = secrets_from_template(dir.path());
    // Every Deployment, started as its pod would be, before the migrations ran.
    struct Pod {
        proc: Proc,
        probes: Vec<(String, Yaml)>,
    }
    // Manifest port → loopback port, for every pod (Service addresses resolve through it).
    let mut every_port: BTreeMap<u16, u16> = BTreeMap::new();
    let mut pods = Vec::new();
    let mut started = BTreeSet::new();
    for deployment in of_kind(&docs, "Deployment") {
        let name = text(&deployment["metadata"]["name"]);
        // Alertmanager is not ours to run here (check-deploy.py checks its configuration).
        if text(&deployment["metadata"]["labels"]["app.kubernetes.io/name"]) != "atmr" {
            continue;
        }
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<String> = container["args"].as_sequence().unwrap().iter().map(text).collect();
        assert_eq!(args, ["serve", name.as_str()], "the Deployment {name} runs its own component");
        let declared: BTreeSet<u16> = container["ports"].as_sequence().unwrap().iter().map(|p| port_of(&p["containerPort"])).collect();
        let (env, listens) = pod_env(config, container, &secrets, &mut every_port);
        assert_eq!(listens, declared, "{name}: the ports it listens on are the ones it declares");
        let probes: Vec<(String, Yaml)> =
            ["startupProbe", "readinessProbe", "livenessProbe"].iter().map(|kind| (kind.to_string(), container[*kind].clone())).collect();
        for (kind, probe) in &probes {
            assert!(!probe.is_null(), "{name} has a {kind}");
        }
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        pods.push(Pod { proc: Proc::start(&name, &arg_refs, &env, dir.path()), probes });
        started.insert(name);
    }
    assert_eq!(started, components().into_iter().map(str::to_owned).collect(), "one Deployment per component");

    // ATMR_MIGRATE=false: the gateway is alive but does not finish starting
    // while its schema is missing.
    let gateway = pods.iter().find(|p| p.proc.name == "gateway").unwrap();
    let admin = every_port[&9090];
    eventually("the gateway is alive", &[&gateway.proc], || http_ok(format!("http://127.0.0.1:{admin}/health/live"))).await;
    let startup = reqwest::get(format!("http://127.0.0.1:{admin}/health/startup")).await.unwrap();
    assert_eq!(startup.status(), 503, "started before the migration Job ran");

    // The migration Job, as the manifest runs it.
    // Its init container makes the database roles (PostgreSQL's business, not
    // here); its containers migrate one component each, as that component.
    let job = of_kind(&docs, "Job").next().expect("a migration Job");
    let containers = job["spec"]["template"]["spec"]["containers"].as_sequence().unwrap();
    assert_eq!(containers.len(), components().len(), "one migration per component");
    // Then the nightly backup CronJob's containers, onto a directory for its volume.
    let cron = of_kind(&docs, "CronJob").next().expect("the backup CronJob");
    let backups = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"].as_sequence().unwrap();
    let volume = dir.path().join("backups").display().to_string();
    for container in containers.iter().chain(backups) {
        let args: Vec<String> =
            container["args"].as_sequence().unwrap().iter().map(|a| text(a).replace("/var/backups/atmr", &volume)).collect();
        let (job_env, _) = pod_env(config, container, &secrets, &mut every_port.clone());
        let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_atmr"))
            .args(&args)
            .env_clear()
            .envs(&job_env)
            .current_dir(dir.path())
            .output()
            .await
            .unwrap();
        assert!(status.status.success(), "the manifest's {args:?} failed: {}", String::from_utf8_lossy(&status.stderr));
    }
    let taken: Vec<usize> = components().iter().map(|c| std::fs::read_dir(dir.path().join("backups").join(c)).unwrap().count()).collect();
    assert_eq!(taken, vec![1; components().len()], "the CronJob backs each component up once: {taken:?}");

    // Now every probe of every pod passes, on the port the manifest names.
    let all: Vec<&Proc> = pods.iter().map(|p| &p.proc).collect();
    for pod in &pods {
        for (kind, probe) in &pod.probes {
            let what = format!("{} {kind}", pod.proc.name);
            if let Some(http) = probe.get("httpGet") {
                let port = every_port.get(&port_of(&http["port"])).unwrap_or_else(|| panic!("{what}: a port the pods listen on"));
                let url = format!("http://127.0.0.1:{port}{}", text(&http["path"]));
                eventually(&what, &all, || http_ok(url.clone())).await;
            } else if let Some(grpc) = probe.get("grpc") {
                let port = *every_port.get(&port_of(&grpc["port"])).unwrap_or_else(|| panic!("{what}: a port the pods listen on"));
                let service = grpc.get("service").map(text).unwrap_or_default();
                eventually(&what, &all, || {
                    let service = service.clone();
                    async move { grpc_serving(port, &service).await }
                })
                .await;
            } else {
                panic!("{what}: only httpGet and grpc probes are expected: {probe:?}");
            }
        }
    }

    // SIGTERM, as at the end of the preStop sleep: each exits cleanly in time.
    let grace = Duration::from_secs(30);
    for pod in pods {
        let name = pod.proc.name.clone();
        let status = tokio::time::timeout(grace, pod.proc.terminate()).await.unwrap_or_else(|_| panic!("{name} outlived its grace period"));
        assert!(status.success(), "{name} exited with {status}");
    }
}

/// Each component's Secret as an operator fills it from the template, with the
/// keys `atmr keys generate` made: the key files, the audit key, the admin's
/// login, a password for each database role; the optional keys stay empty.
struct Secrets {
    dir: std::path::PathBuf,
    /// By Secret name, by key.
    values: BTreeMap<String, BTreeMap<String, String>>,
}

fn secrets_from_template(dir: &Path) -> Secrets {
    use serde::Deserialize as _;
    let keys = dir.join("keys");
    kit::auth::keys::generate_dir(&keys).unwrap();
    let text_of = std::fs::read_to_string(repo_root().join("deploy/k8s/secret.template.yaml")).unwrap();
    let mut values = BTreeMap::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text_of) {
        let doc = Yaml::deserialize(doc).unwrap();
        if doc["kind"].as_str() != Some("Secret") {
            continue;
        }
        let name = text(&doc["metadata"]["name"]);
        let filled: BTreeMap<String, String> = doc["stringData"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(text)
            .map(|key| {
                let value = match key.as_str() {
                    k if k.ends_with(".pem") => std::fs::read_to_string(keys.join(k)).unwrap_or_default(),
                    "audit-signing-key" => {
                        std::fs::read_to_string(keys.join(kit::auth::keys::files::SAFETY_AUDIT_KEY)).unwrap().trim().to_owned()
                    }
                    "admin-email" => ADMIN_EMAIL.to_owned(),
                    "admin-password" => ADMIN_PASSWORD.to_owned(),
                    "database-password" => "a-database-password".to_owned(),
                    "ops-discord-url" => "https://discord.invalid/api/webhooks/1/deploy-test".to_owned(),
                    _ => String::new(),
                };
                (key, value)
            })
            .collect();
        values.insert(name, filled);
    }
    for component in components() {
        assert!(values.contains_key(&format!("atmr-{component}")), "the template has the Secret atmr-{component}");
    }
    Secrets { dir: dir.to_owned(), values }
}

fn components() -> Vec<&'static str> {
    kit::Component::ALL.iter().map(|c| c.name()).collect()
}
