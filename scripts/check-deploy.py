#!/usr/bin/env python3
"""Static checks of the deployment files, for a machine without a container
engine (CI runs it; so can anyone before a deploy):

- docker-compose.yml against the Compose specification's JSON schema, plus what
  a schema cannot say: secrets only from .env and deploy/keys, documented in
  .env.example; a health check on every component; mounted files that exist.
- Least privilege, in compose and in the rendered Kubernetes manifests: each
  component reads only its own secrets (its own private key; the user-token key
  the gateway alone, the audit key safety alone), public keys for the rest, and
  connects to its own database as its own role; ATMR_JWT_SECRET is gone.
- deploy/k8s: both overlays rendered with kustomize and validated against the
  Kubernetes JSON schemas (kubernetes-validate, strict), plus the rules of the
  deploy issue: three probes per Deployment, requests and limits, a PDB each,
  HPAs for gateway and dispatch, a grace period covering preStop + drain.
- deploy/observability: every PromQL expression parses, and every metric it
  reads is one the components register (found in the Rust sources); the
  source document's metric names (and the issue's domain ones) are registered.
- Alerting: promtool checks the rules (templates included); every alert has a
  summary, a description and a runbook_url naming docs/runbooks/<alert>.md,
  which exists with its four sections (and no runbook is left without its
  alert); amtool checks alertmanager.yml, every `page` alert reaches both
  paths (the platform's notify and the fallback email) and every other the
  platform's, and the inhibition names alerts that exist.
- Monitors: every monitors file (deploy/monitors/, deploy/k8s/base/monitors.yml,
  the README's example) passes `atmr monitors check` (notify's own rules; ATMR_BIN or cargo), declares
  an internal monitor per component and dependency and routes the platform's
  alerts, and is mounted into notify with its channels' credential files.
- The `routing` profile: OSRM pinned, prepared by scripts/osrm-prepare.sh with
  the same image into the volume it serves; dispatch reads DISPATCH_OSRM_URL.

Needs: PyYAML, jsonschema, kubernetes-validate, promql-parser (PyPI),
`kubectl kustomize` or `kustomize`, and promtool and amtool (Debian's
prometheus and prometheus-alertmanager packages; fetched with
`apt-get download` and unpacked into the cache when not installed). Usage: python3 scripts/check-deploy.py
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import promql_parser
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S_VERSION = "1.32"
# The Compose specification's schema ships in the docker-compose 1.29 wheel
# (the last Python release); fetched from PyPI with pip once and cached.
CACHE = Path.home() / ".cache" / "atmr-check-deploy"
COMPONENTS = ["gateway", "dispatch", "safety", "bugs", "notify"]
# Made by `atmr keys generate --dir deploy/keys` before the first start; never committed.
GENERATED = {"./deploy/keys"}
# Private key files a component may hold, beyond its own `<component>.key.pem`.
EXTRA_PRIVATE = {
    "gateway": {"user-token.key.pem", "alerts-token"},
    "safety": {"safety-audit.key"},
    # The operator's Discord webhook URL, the monitors file's ops-discord channel.
    "notify": {"ops-discord-url"},
}
# Variables that carry a key only one component may have.
ONLY = {"GATEWAY_USER_TOKEN_KEY_FILE": "gateway", "SAFETY_AUDIT_SIGNING_KEY": "safety", "GATEWAY_ALERTS_TOKEN_FILE": "gateway"}

failures = []


def fail(msg):
    failures.append(msg)
    print(f"  FAIL {msg}")


def ok(msg):
    print(f"  ok   {msg}")


# ------------------------------------------------------------- dockerfile ---

def check_dockerfile():
    """The dependency layer must know every workspace member, or the cached
    build fails and every source change rebuilds all dependencies."""
    print("deploy/Dockerfile")
    import tomllib

    members = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["members"]
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    for member in members:
        if f"COPY {member} {member}" in text:
            continue
        if f"COPY {member}/Cargo.toml {member}/Cargo.toml" not in text:
            fail(f"Dockerfile: the dependency layer does not copy {member}/Cargo.toml")
        elif f" {member}" not in text.split("RUN for d in", 1)[1].split(";", 1)[0] and f"> {member}/src/main.rs" not in text:
            # A library stub from the loop, or a main.rs for a binary-only crate.
            fail(f"Dockerfile: the dependency layer does not stub {member}/src")
    if "USER 65532" not in text or "distroless" not in text:
        fail("Dockerfile: the runtime must be distroless and non-root")
    ok(f"dependency layer covers the {len(members)} workspace members; distroless, non-root")


# ---------------------------------------------------------------- compose ---

def compose_schema():
    cached = CACHE / "compose_spec.json"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        wheel = fetch_compose_wheel()
        with zipfile.ZipFile(io.BytesIO(wheel)) as z:
            cached.write_bytes(z.read("compose/config/compose_spec.json"))
    return json.loads(cached.read_text())


def fetch_compose_wheel():
    # pip knows the index and any proxy settings.
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", d, "docker-compose==1.29.2"],
            capture_output=True, text=True,
        )
        wheels = list(Path(d).glob("docker_compose-*.whl"))
        if r.returncode != 0 or not wheels:
            sys.exit(f"cannot fetch the Compose schema (pip download docker-compose==1.29.2): {r.stderr.strip()}")
        return wheels[0].read_bytes()


INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def check_compose():
    print("docker-compose.yml")
    text = (ROOT / "docker-compose.yml").read_text()
    doc = yaml.safe_load(text)  # resolves the << merge keys, as compose does
    try:
        jsonschema.validate(doc, compose_schema())
        ok("valid against the Compose specification schema")
    except jsonschema.ValidationError as e:
        fail(f"compose schema: {'/'.join(map(str, e.absolute_path))}: {e.message}")

    example = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("# ") or re.match(r"^# [A-Z0-9_]+=", line)
    }
    used = {m.group(1) for m in INTERPOLATION.finditer(text)}
    required = {m.group(1) for m in INTERPOLATION.finditer(text) if m.group(2) == "?"}
    for var in sorted(required - example):
        fail(f"${{{var}}} is required but not documented in .env.example")
    # COMPOSE_* are compose's own settings (COMPOSE_PROFILES), read from .env by compose itself.
    for var in sorted(example - used - {v for v in example if v.startswith("COMPOSE_")}):
        fail(f".env.example documents {var}, which docker-compose.yml never reads")
    ok(f"{len(used)} variables from .env, all documented")

    services = doc["services"]
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            secret = re.search(r"PASSWORD|SECRET|SIGNING_KEY|TOKEN", key)
            # A file path under /run/secrets names a compose secret, not a value.
            secret_file = key.endswith("_FILE") and isinstance(value, str) and value.startswith("/run/secrets/")
            if secret and not secret_file and isinstance(value, str) and value and "${" not in value:
                fail(f"{name}: {key} has a literal value; secrets come from .env")
            if isinstance(value, str) and re.search(r"://[^:/]+:[^@$]+@", value):
                fail(f"{name}: {key} embeds a literal password")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                fail(f"{name} depends on unknown service {dep}")
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./") and source not in GENERATED and not (ROOT / source).exists():
                fail(f"{name} mounts {source}, which does not exist")
    for component in COMPONENTS:
        svc = services.get(component)
        if svc is None:
            fail(f"no service {component}")
            continue
        if svc.get("command") != ["serve", component]:
            fail(f"{component} does not run `serve {component}`")
        if "healthcheck" not in svc:
            fail(f"{component} has no health check")
        deps = svc.get("depends_on") or {}
        if deps.get(f"migrate-{component}", {}).get("condition") != "service_completed_successfully":
            fail(f"{component} does not wait for its migrations (migrate-{component})")
    for component in COMPONENTS:
        svc = services.get(f"backup-{component}")
        if svc is None:
            fail(f"no service backup-{component} (the backup profile)")
            continue
        if svc.get("profiles") != ["backup"]:
            fail(f"backup-{component} must run only with --profile backup")
        command = svc.get("command") or []
        if command[:3] != ["backup", "--component", component]:
            fail(f"backup-{component} does not run `backup --component {component}`: {command}")
        if not any(str(v).startswith("backups:") for v in svc.get("volumes") or []):
            fail(f"backup-{component} does not write to the backups volume")
    redis = " ".join(services["redis"]["command"])
    if "--appendonly yes" not in redis or "--maxmemory" not in redis:
        fail("redis must be append-only with a memory limit")
    ok(f"{len(services)} services: components health-checked, started after migrate, backed up by the backup profile")
    check_compose_least_privilege(doc)


def private_key_file(name):
    """A private key by its file name (`*.key.pem`, `*.key`), or None."""
    base = name.rsplit("/", 1)[-1]
    return base if base.endswith((".key.pem", ".key")) else None


def allowed_private(component):
    return {f"{component}.key.pem"} | EXTRA_PRIVATE.get(component, set())


def check_database_url(where, component, var, url):
    """`<C>_DATABASE_URL` for `component` only, as its own role, to its own database."""
    owner = var[: -len("_DATABASE_URL")].lower()
    if owner != component:
        fail(f"{where}: {var} is {owner}'s database; {component} may have its own only")
        return
    m = re.match(r"postgres(?:ql)?://([^:@/]+)(?::[^@]*)?@[^/]+/([^?]+)", url or "")
    if not m:
        fail(f"{where}: {var} is not a postgres:// URL with a user: {url!r}")
        return
    user, database = m.groups()
    if user != f"atmr_{component}" or database != f"atmr_{component}":
        fail(f"{where}: {var} connects as {user} to {database}; expected atmr_{component} to atmr_{component}")


def check_compose_least_privilege(doc):
    services = doc["services"]
    secrets = {name: spec.get("file", "") for name, spec in (doc.get("secrets") or {}).items()}
    configs = {name: spec.get("file", "") for name, spec in (doc.get("configs") or {}).items()}
    for name, spec in configs.items():
        if private_key_file(spec) or not spec.endswith(".pub.pem"):
            fail(f"compose config {name} is {spec}: configs are for public keys (*.pub.pem) only")
    checked = 0
    for name, svc in services.items():
        component = next((c for c in COMPONENTS if name in (c, f"migrate-{c}", f"backup-{c}")), None)
        env = svc.get("environment") or {}
        text = json.dumps(svc)
        if "ATMR_JWT_SECRET" in text:
            fail(f"{name}: ATMR_JWT_SECRET is gone; each component has its own key")
        if component is None:
            continue
        checked += 1
        for ref in svc.get("secrets") or []:
            source = ref if isinstance(ref, str) else ref.get("source")
            file = private_key_file(secrets.get(source, source)) or source
            if file not in allowed_private(component):
                fail(f"{name}: mounts the secret {source} ({secrets.get(source)}), which is not {component}'s")
        for ref in svc.get("configs") or []:
            source = ref if isinstance(ref, str) else ref.get("source")
            if private_key_file(configs.get(source, "")):
                fail(f"{name}: config {source} is a private key")
        for volume in svc.get("volumes") or []:
            if volume.split(":", 1)[0].rstrip("/") in GENERATED:
                fail(f"{name}: mounts the whole key directory; mount its own key as a secret")
        for var, value in env.items():
            value = str(value)
            if var.endswith("_DATABASE_URL"):
                check_database_url(name, component, var, value)
            if ONLY.get(var, component) != component:
                fail(f"{name}: {var} belongs to {ONLY[var]} alone")
            if var == "ATMR_COMPONENT_KEY_FILE" and not value.endswith(f"/{component}.key.pem"):
                fail(f"{name}: ATMR_COMPONENT_KEY_FILE is {value}, not {component}'s key")
            for other in COMPONENTS:
                if other != component and f"${{{other.upper()}_DB_PASSWORD" in value:
                    fail(f"{name}: {var} reads {other}'s database password")
    ok(f"least privilege: {checked} component, migration and backup services see only their own keys and database role")


# ------------------------------------------------------------- kubernetes ---

def kustomize(path):
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(path)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(path)]
    else:
        sys.exit("neither kubectl nor kustomize is installed")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"kustomize {path.relative_to(ROOT)}: {r.stderr.strip()}")
        return ""
    return r.stdout


def kubernetes_validate(path):
    r = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", K8S_VERSION, str(path)],
        capture_output=True, text=True,
    )
    for line in (r.stdout + r.stderr).splitlines():
        if line.startswith(("ERROR", "WARN")):
            fail(line)
    return r.returncode == 0


def check_overlay(name):
    overlay = ROOT / "deploy" / "k8s" / "overlays" / name
    rendered = kustomize(overlay)
    if not rendered:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(rendered)
    if kubernetes_validate(Path(f.name)):
        ok(f"overlay {name}: rendered and valid against Kubernetes {K8S_VERSION} (strict)")
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    config = by_kind.get("ConfigMap", {}).get("atmr-config", {}).get("data", {})
    drain = int(config.get("ATMR_DRAIN_DEADLINE_MS", "10000")) / 1000
    pre_stop_app = int(config.get("ATMR_PRE_STOP_DELAY_MS", "0")) / 1000
    for component in COMPONENTS:
        dep = by_kind.get("Deployment", {}).get(component)
        if dep is None:
            fail(f"{name}: no Deployment {component}")
            continue
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe not in c:
                fail(f"{name}/{component}: no {probe}")
        if component != "gateway" and "grpc" not in c.get("readinessProbe", {}):
            fail(f"{name}/{component}: readiness must be a native gRPC probe")
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits"):
            fail(f"{name}/{component}: resource requests and limits")
        sleep = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if grace < sleep + pre_stop_app + drain:
            fail(f"{name}/{component}: grace {grace}s < preStop {sleep}s + delay {pre_stop_app}s + drain {drain}s")
        if component not in by_kind.get("PodDisruptionBudget", {}):
            fail(f"{name}/{component}: no PodDisruptionBudget")
        if component not in by_kind.get("NetworkPolicy", {}):
            fail(f"{name}/{component}: no NetworkPolicy")
        if component not in by_kind.get("Service", {}):
            fail(f"{name}/{component}: no Service")
    for component in ("gateway", "dispatch"):
        if component not in by_kind.get("HorizontalPodAutoscaler", {}):
            fail(f"{name}: no HorizontalPodAutoscaler for {component}")
    if not by_kind.get("Job"):
        fail(f"{name}: no migration Job")
    check_backup_cronjob(name, by_kind)
    if "Secret" in by_kind:
        fail(f"{name}: a Secret is rendered; secrets are created out of band")
    if "default-deny-ingress" not in by_kind.get("NetworkPolicy", {}):
        fail(f"{name}: no default-deny NetworkPolicy")
    check_kubernetes_least_privilege(name, by_kind)
    ok(f"overlay {name}: {len(docs)} objects; probes, resources, PDBs, HPAs, policies, grace periods")


def check_backup_cronjob(overlay, by_kind):
    """The nightly backup: one container per component, each running `backup
    --component <c>` as its own role (its own Secret only), onto a volume."""
    cron = by_kind.get("CronJob", {}).get("atmr-backup")
    if cron is None:
        fail(f"{overlay}: no CronJob atmr-backup")
        return
    if cron["spec"].get("concurrencyPolicy") != "Forbid":
        fail(f"{overlay}/cronjob atmr-backup: concurrencyPolicy must be Forbid (two backups at once race on retention)")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    claims = {v["name"] for v in pod.get("volumes") or [] if "persistentVolumeClaim" in v}
    for claim in (v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes") or [] if "persistentVolumeClaim" in v):
        if claim not in by_kind.get("PersistentVolumeClaim", {}):
            fail(f"{overlay}/cronjob atmr-backup: no PersistentVolumeClaim {claim}")
    covered = set()
    for c in pod["containers"]:
        where = f"{overlay}/cronjob atmr-backup/{c['name']}"
        m = re.fullmatch(r"backup-([a-z]+)", c["name"])
        if not m or m.group(1) not in COMPONENTS:
            fail(f"{where}: not one component's backup")
            continue
        component = m.group(1)
        covered.add(component)
        if (c.get("args") or [])[:3] != ["backup", "--component", component]:
            fail(f"{where}: does not run `backup --component {component}`")
        if not any(v["name"] in claims for v in c.get("volumeMounts") or []):
            fail(f"{where}: writes to no persistent volume")
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["name"] != f"atmr-{component}":
                fail(f"{where}: reads the Secret {ref['name']}")
            if ref and private_key_file(ref["key"]):
                fail(f"{where}: reads the private key {ref['key']}")
        check_container_env(where, component, c)
    for component in sorted(set(COMPONENTS) - covered):
        fail(f"{overlay}/cronjob atmr-backup: {component} is not backed up")


def pod_secret_reads(pod):
    """(secret name, key or None for the whole secret, where) for every read of a Secret in `pod`."""
    reads = []
    for volume in pod.get("volumes") or []:
        sources = [volume] + [s for s in (volume.get("projected") or {}).get("sources") or []]
        for source in sources:
            secret = source.get("secret")
            if secret:
                name = secret.get("secretName") or secret.get("name")
                items = secret.get("items")
                reads += [(name, i["key"], f"volume {volume['name']}") for i in items] if items else [(name, None, f"volume {volume['name']}")]
    for c in (pod.get("initContainers") or []) + pod["containers"]:
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                reads.append((ref["name"], ref["key"], f"{c['name']}: {e['name']}"))
        for e in c.get("envFrom") or []:
            if "secretRef" in e:
                reads.append((e["secretRef"]["name"], None, f"{c['name']}: envFrom"))
    return reads


def check_container_env(where, component, container):
    for e in container.get("env") or []:
        var, value = e["name"], e.get("value")
        if var == "ATMR_JWT_SECRET":
            fail(f"{where}: ATMR_JWT_SECRET is gone; each component has its own key")
        if var.endswith("_DATABASE_URL"):
            check_database_url(where, component, var, value)
        if ONLY.get(var, component) != component:
            fail(f"{where}: {var} belongs to {ONLY[var]} alone")
        if var == "ATMR_COMPONENT_KEY_FILE" and not (value or "").endswith(f"/{component}.key.pem"):
            fail(f"{where}: ATMR_COMPONENT_KEY_FILE is {value}, not {component}'s key")


def check_kubernetes_least_privilege(overlay, by_kind):
    """Each Deployment reads its own Secret only, mounts only its own private key
    files and the public keys, and connects as its own database role; the
    migration Job's containers likewise, its init container (the database
    administrator) no private key."""
    for name, cm in by_kind.get("ConfigMap", {}).items():
        if "ATMR_JWT_SECRET" in (cm.get("data") or {}):
            fail(f"{overlay}: ConfigMap {name} sets ATMR_JWT_SECRET, which is gone")
    for component in COMPONENTS:
        dep = by_kind.get("Deployment", {}).get(component)
        if dep is None:
            continue
        pod = dep["spec"]["template"]["spec"]
        where = f"{overlay}/{component}"
        for secret, key, at in pod_secret_reads(pod):
            if secret != f"atmr-{component}" and secret != f"atmr-{component}-tls":
                fail(f"{where}: {at} reads the Secret {secret}; {component} may read atmr-{component} only")
            elif key is None and secret == f"atmr-{component}":
                fail(f"{where}: {at} takes the whole Secret {secret}; name the keys it needs")
            elif key and private_key_file(key) and key not in allowed_private(component):
                fail(f"{where}: {at} reads {key}, which is not {component}'s")
        for volume in pod.get("volumes") or []:
            for item in (volume.get("configMap") or {}).get("items") or []:
                if private_key_file(item["key"]):
                    fail(f"{where}: volume {volume['name']} takes a private key from a ConfigMap")
        for c in (pod.get("initContainers") or []) + pod["containers"]:
            check_container_env(f"{where}/{c['name']}", component, c)
    for job_name, job in by_kind.get("Job", {}).items():
        pod = job["spec"]["template"]["spec"]
        for secret, key, at in pod_secret_reads(pod):
            if key and private_key_file(key):
                fail(f"{overlay}/job {job_name}: {at} reads the private key {key}")
            if key is None:
                fail(f"{overlay}/job {job_name}: {at} takes the whole Secret {secret}; name the keys it needs")
        for c in pod["containers"]:
            m = re.fullmatch(r"migrate-([a-z]+)", c["name"])
            if not m or m.group(1) not in COMPONENTS:
                fail(f"{overlay}/job {job_name}: container {c['name']} is not one component's migration")
                continue
            component = m.group(1)
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref["name"] != f"atmr-{component}":
                    fail(f"{overlay}/job {job_name}/{c['name']}: reads the Secret {ref['name']}")
            check_container_env(f"{overlay}/job {job_name}/{c['name']}", component, c)
    ok(f"overlay {overlay}: least privilege: each pod reads only its own Secret, keys and database role")


def check_kubernetes():
    print("deploy/k8s")
    for overlay in ("dev", "prod"):
        check_overlay(overlay)
    if kubernetes_validate(ROOT / "deploy" / "k8s" / "secret.template.yaml"):
        ok("secret.template.yaml valid")
    templates = [d for d in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "secret.template.yaml").read_text()) if d]
    for template in templates:
        name = template["metadata"]["name"]
        filled = [k for k, v in template["stringData"].items() if v]
        if filled:
            fail(f"secret.template.yaml: {name} has values for {filled}: it must hold none")
        if "ATMR_JWT_SECRET" in template["stringData"]:
            fail(f"secret.template.yaml: {name} holds ATMR_JWT_SECRET, which is gone")
        owner = next((c for c in COMPONENTS if name == f"atmr-{c}"), None)
        for key in template["stringData"]:
            if private_key_file(key) and (owner is None or key not in allowed_private(owner)):
                fail(f"secret.template.yaml: {name} holds {key}, which is not {owner or 'its reader'}'s")
    for component in COMPONENTS:
        if not any(t["metadata"]["name"] == f"atmr-{component}" for t in templates):
            fail(f"secret.template.yaml: no Secret atmr-{component}")
    ok(f"secret.template.yaml: {len(templates)} Secrets, one per component, each with its own keys only")
    restore = ROOT / "deploy" / "k8s" / "restore-job.yaml"
    if kubernetes_validate(restore):
        ok("restore-job.yaml valid")
    job = yaml.safe_load(restore.read_text())
    for c in job["spec"]["template"]["spec"]["containers"]:
        if (c.get("args") or [])[:3] != ["restore", "--component", "safety"]:
            fail(f"restore-job.yaml: {c['name']} does not run `restore --component safety`")
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["name"] != "atmr-safety":
                fail(f"restore-job.yaml: {c['name']} reads the Secret {ref['name']}")
        check_container_env(f"restore-job.yaml/{c['name']}", "safety", c)
    canonical = (ROOT / "deploy" / "postgres" / "component-role.sql").read_text()
    if (ROOT / "deploy" / "k8s" / "base" / "component-role.sql").read_text() != canonical:
        fail("deploy/k8s/base/component-role.sql differs from deploy/postgres/component-role.sql")


# ---------------------------------------------------------- observability ---

def metric_names_in(expr):
    names = set()

    def walk(node):
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name)
        elif isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
        elif isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
        else:
            for attr in ("lhs", "rhs", "expr", "args", "param"):
                if hasattr(node, attr):
                    walk(getattr(node, attr))

    walk(promql_parser.parse(expr))
    return names


def exported_metrics():
    """Metric names the components register, read from the Rust sources."""
    names = set()
    pattern = re.compile(r'(?:Opts::new|HistogramOpts::new|IntGauge::new|Gauge::new|IntCounter::new|Counter::new)\(\s*"([a-z_:][a-z0-9_:]*)"')
    for path in list((ROOT / "services").rglob("*.rs")) + list((ROOT / "gateway").rglob("*.rs")):
        names.update(pattern.findall(path.read_text()))
    return names


def base_metric(name, exported):
    if name in exported or name == "up":
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in exported:
            return True
    return False


# The source document's metric names (seeds/002, "Métriques Prometheus
# disponibles") and the issue's domain families: each must stay exported.
# `websocket_messages_received_total` is left out: nothing is received on the
# board's streams (Server-Sent Events, one way).
SOURCE_METRICS = [
    "http_requests_total", "http_request_duration_seconds", "http_request_size_bytes", "http_response_size_bytes",
    "cache_hits_total", "cache_misses_total", "cache_latency_seconds", "cache_size_bytes", "cache_evictions_total",
    "cache_expirations_total", "db_connection_pool_size", "db_connection_pool_available", "db_query_duration_seconds",
    "websocket_connections_active", "websocket_messages_sent_total", "websocket_errors_total",
    "dispatch_run_duration_seconds", "dispatch_bookings_unassigned", "dispatch_late_pickups_total",
    "notify_delivery_seconds", "safety_actions_total",
]


def check_observability():
    print("deploy/observability")
    exported = exported_metrics()
    missing = [m for m in SOURCE_METRICS if m not in exported]
    if missing:
        fail(f"the source document's metrics no component exports: {missing}")
    else:
        ok(f"the {len(SOURCE_METRICS)} source and domain metric names are exported")
    obs = ROOT / "deploy" / "observability"
    rules = yaml.safe_load((obs / "alerts.yml").read_text())
    count = 0
    alerts = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            count += 1
            alerts.add(rule["alert"])
            for key in ("alert", "expr"):
                if key not in rule:
                    fail(f"alert rule without {key}: {rule}")
            try:
                for name in metric_names_in(rule["expr"]):
                    if not base_metric(name, exported):
                        fail(f"alert {rule['alert']} reads {name}, which no component exports")
            except Exception as e:  # promql_parser raises its own error types
                fail(f"alert {rule['alert']}: {e}")
    ok(f"{count} alert rules parse and read exported metrics")
    wanted = ["AtmrComponentDown", "AtmrGatewayErrorRate", "AtmrGatewayP99Latency", "AtmrCircuitBreakerOpen", "AtmrRateLimitSpike", "AtmrNotificationBacklog"]
    for alert in wanted:
        if alert not in alerts:
            fail(f"missing alert {alert}")

    dashboard = json.loads((obs / "grafana" / "dashboards" / "atmr.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for expr in exprs:
        try:
            for name in metric_names_in(expr):
                if not base_metric(name, exported):
                    fail(f"dashboard reads {name}, which no component exports")
        except Exception as e:
            fail(f"dashboard expression {expr!r}: {e}")
    read = set().union(*(metric_names_in(e) for e in exprs)) if exprs else set()
    unread = sorted(m for m in exported if not any(r == m or r.startswith(m + "_") for r in read))
    if unread:
        fail(f"exported metrics no dashboard panel shows: {unread}")
    else:
        ok(f"dashboard: {len(exprs)} queries over {len(read)} metrics, every exported metric shown")

    prom = yaml.safe_load((obs / "prometheus.yml").read_text())
    jobs = {j["job_name"] for j in prom["scrape_configs"]}
    for component in COMPONENTS:
        if f"atmr-{component}" not in jobs:
            fail(f"prometheus.yml does not scrape {component}")
    ok("prometheus.yml scrapes every component")


# --------------------------------------------------------------- alerting ---

RUNBOOK_SECTIONS = ["## What it means", "## How to confirm it", "## What to do", "## When to escalate"]


def debian_tool(package, binary):
    """`binary` from PATH, else from Debian's `package`, downloaded (not
    installed: no daemon starts) and unpacked into the cache."""
    found = shutil.which(binary)
    if found:
        return found
    cached = CACHE / package / "usr" / "bin" / binary
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run(["apt-get", "download", package], cwd=d, capture_output=True, text=True)
            debs = list(Path(d).glob(f"{package}_*.deb"))
            if r.returncode != 0 or not debs:
                sys.exit(f"cannot fetch {binary} (apt-get download {package}): {r.stderr.strip()}")
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(CACHE / package)], check=True)
    return str(cached)


def check_alerting():
    print("alerting (alerts.yml, alertmanager.yml, docs/runbooks)")
    obs = ROOT / "deploy" / "observability"
    promtool = debian_tool("prometheus", "promtool")
    r = subprocess.run([promtool, "check", "rules", str(obs / "alerts.yml")], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"promtool check rules: {(r.stdout + r.stderr).strip()}")
    rules = [rule for g in yaml.safe_load((obs / "alerts.yml").read_text())["groups"] for rule in g["rules"]]
    runbooks = ROOT / "docs" / "runbooks"
    names = set()
    for rule in rules:
        name = rule["alert"]
        names.add(name)
        notes = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not notes.get(key):
                fail(f"alert {name} has no {key}")
        if notes.get("runbook_url") != f"{{{{ $externalLabels.runbook_base }}}}/{name}.md":
            fail(f"alert {name}: runbook_url must be {{{{ $externalLabels.runbook_base }}}}/{name}.md")
        book = runbooks / f"{name}.md"
        if not book.exists():
            fail(f"alert {name} has no runbook {book.relative_to(ROOT)}")
            continue
        text = book.read_text()
        missing = [s for s in RUNBOOK_SECTIONS if s not in text]
        if missing:
            fail(f"{book.relative_to(ROOT)} lacks {missing}")
        if rule.get("labels", {}).get("severity") not in ("page", "warn", "info"):
            fail(f"alert {name}: severity must be page, warn or info")
    for book in runbooks.glob("*.md"):
        if book.stem not in names and book.name != "README.md":
            fail(f"{book.relative_to(ROOT)} is the runbook of no alert")
    prom = yaml.safe_load((obs / "prometheus.yml").read_text())
    if not prom.get("global", {}).get("external_labels", {}).get("runbook_base"):
        fail("prometheus.yml sets no external label runbook_base for the runbook links")
    if not prom.get("alerting", {}).get("alertmanagers"):
        fail("prometheus.yml sends its alerts to no Alertmanager")
    ok(f"{len(rules)} alerts with summary, description and a runbook of four sections")

    amtool = debian_tool("prometheus-alertmanager", "amtool")
    config = obs / "alertmanager.yml"
    r = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"amtool check-config: {(r.stdout + r.stderr).strip()}")
        return
    am = yaml.safe_load(config.read_text())
    receivers = {rc["name"]: rc for rc in am["receivers"]}
    platform_url = "http://gateway:8080/api/platform/alerts"
    for rule in rules:
        severity = rule["labels"]["severity"]
        r = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={config}", f"alertname={rule['alert']}", f"severity={severity}", "job=atmr-notify"],
            capture_output=True, text=True,
        )
        got = r.stdout.strip().split(",")
        for receiver in got:
            rc = receivers.get(receiver, {})
            paths = {"platform" if any(w.get("url") == platform_url for w in rc.get("webhook_configs", [])) else None,
                     "fallback" if rc.get("email_configs") else None} - {None}
            want = {"platform", "fallback"} if severity == "page" else {"platform"}
            if paths != want:
                fail(f"alert {rule['alert']} ({severity}) reaches {sorted(paths)} through {receiver}, wants {sorted(want)}")
    for inhibit in am.get("inhibit_rules", []):
        for matcher in inhibit.get("source_matchers", []) + inhibit.get("target_matchers", []):
            m = re.match(r'alertname(=~|=)"([^"]*)"', matcher)
            if m:
                for alert in m.group(2).split("|"):
                    if alert not in names:
                        fail(f"alertmanager.yml inhibits {alert}, which is no alert")
        if "job" not in inhibit.get("equal", []):
            fail("an inhibition must be per job (equal: [job]): one component down silences its own alerts only")
    ok("alertmanager.yml: pages take both paths, the rest the platform's notify; inhibitions name real alerts")
    copy = ROOT / "deploy" / "k8s" / "base" / "alertmanager.yml"
    if not copy.exists() or copy.read_text() != config.read_text():
        fail("deploy/k8s/base/alertmanager.yml must be a copy of deploy/observability/alertmanager.yml (kustomize reads its own directory only)")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounts = " ".join(compose.get("alertmanager", {}).get("volumes", []))
    if "./deploy/observability/alertmanager.yml:" not in mounts:
        fail("docker-compose.yml runs no alertmanager with deploy/observability/alertmanager.yml")
    env = compose.get("gateway", {}).get("environment", {})
    if "GATEWAY_ALERTS_TOKEN_FILE" not in env:
        fail("docker-compose.yml: the gateway has no GATEWAY_ALERTS_TOKEN_FILE, so the platform's path is off")
    targets = [t for a in prom["alerting"]["alertmanagers"] for sc in a.get("static_configs", []) for t in sc.get("targets", [])]
    if "alertmanager:9093" not in targets:
        fail("prometheus.yml does not send its alerts to alertmanager:9093")
    ok("Alertmanager runs in compose and in deploy/k8s with the same configuration; Prometheus sends to it")


# --------------------------------------------------------------- monitors ---

MONITORS_FILES = [
    ROOT / "deploy" / "monitors" / "compose.yaml",
    ROOT / "deploy" / "monitors" / "compose-routing.yaml",
    ROOT / "deploy" / "k8s" / "base" / "monitors.yml",
]
# The external dependencies every deployment watches, besides each component.
DEPENDENCIES = {"postgres", "redis"}
ADMIN_PORTS = {"gateway": 9090, "dispatch": 9091, "safety": 9092, "bugs": 9093, "notify": 9094}


def atmr_monitors_check(paths):
    """`atmr monitors check` on `paths`: the rules notify's start applies (the
    binary from ATMR_BIN, else built with cargo). Credential files are not read."""
    binary = os.environ.get("ATMR_BIN")
    cmd = [binary] if binary else ["cargo", "run", "--quiet", "--locked", "-p", "atmr", "--"]
    # The default egress policy: nothing private allowed but what is internal.
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_EGRESS_ALLOW"}
    r = subprocess.run(cmd + ["monitors", "check"] + [str(p) for p in paths], capture_output=True, text=True, cwd=ROOT, env=env)
    if r.returncode != 0:
        fail(f"atmr monitors check: {(r.stderr or r.stdout).strip().splitlines()[-1] if (r.stderr or r.stdout).strip() else r.returncode}")
        return False
    for line in r.stdout.strip().splitlines():
        ok(re.sub(r"^/\S*/(README-monitors-example.yaml)", r"\1", line.replace(str(ROOT) + "/", "")))
    return True


def platform_monitors(path):
    doc = yaml.safe_load(path.read_text())
    platform = [c for c in doc.get("companies") or [] if c.get("company") == 0]
    if len(platform) != 1:
        fail(f"{path.relative_to(ROOT)}: no company 0 (the platform operator's monitors)")
        return None
    return platform[0]


def check_platform_monitors(path, expected, hosts):
    """One monitor per component and dependency (and those of `expected`),
    internal, each on a host of `hosts`; every alert routed to a channel."""
    company = platform_monitors(path)
    if company is None:
        return None
    where = path.relative_to(ROOT)
    monitors = {m["name"]: m for m in company.get("monitors") or [] if not m.get("removed")}
    missing = sorted(expected - set(monitors))
    if missing:
        fail(f"{where}: no monitor for {missing}")
    for name, m in monitors.items():
        if not m.get("internal"):
            fail(f"{where}: monitor {name} watches a private address but is not internal")
        host = re.sub(r"^[a-z]+://", "", m.get("target", "")).split("/")[0].rsplit(":", 1)[0]
        if host not in hosts:
            fail(f"{where}: monitor {name} targets {host}, which is not a service of the deployment")
        if name in ADMIN_PORTS and f":{ADMIN_PORTS[name]}/health/ready" not in m.get("target", ""):
            fail(f"{where}: monitor {name} does not read {name}'s readiness on its admin port {ADMIN_PORTS[name]}")
    routed = {r.get("event_type", "") for r in company.get("routes") or [] if not r.get("removed")}
    for event in ("platform.alert", "monitor.down"):
        if event not in routed and "" not in routed:
            fail(f"{where}: no route sends {event} to the operator")
    return company


def readme_monitors_example(directory):
    """The README's example monitors file (section "Monitors"), written into `directory`."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.find("### Monitors"):]
    m = re.search(r"```yaml\n(.*?)```", section, re.S)
    path = Path(directory) / "README-monitors-example.yaml"
    path.write_text(m.group(1) if m else "")
    return path


def check_monitors():
    print("monitors (ATMR_MONITORS_FILE)")
    with tempfile.TemporaryDirectory() as d:
        # The README's example is checked with the deployment's files: it must stay a valid file.
        if not atmr_monitors_check(MONITORS_FILES + [readme_monitors_example(d)]):
            return
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    components = set(COMPONENTS) | DEPENDENCIES
    plain = check_platform_monitors(MONITORS_FILES[0], components, set(services))
    routing = check_platform_monitors(MONITORS_FILES[1], components | {"osrm"}, set(services))
    if plain and routing:
        extra = [m for m in routing["monitors"] if m not in plain["monitors"]]
        if [m["name"] for m in extra] != ["osrm"] or any(m not in routing["monitors"] for m in plain["monitors"]):
            fail("deploy/monitors/compose-routing.yaml must be compose.yaml plus the osrm monitor")
    notify = services["notify"]
    default = re.match(r"\$\{ATMR_MONITORS_FILE:-([^}]+)\}", str(notify["environment"].get("ATMR_MONITORS_FILE", "")))
    mounts = [v for v in notify.get("volumes") or [] if v.startswith("./deploy/monitors:")]
    if not default or not mounts or not default.group(1).startswith(mounts[0].split(":")[1] + "/"):
        fail("docker-compose.yml: notify does not mount ./deploy/monitors with ATMR_MONITORS_FILE set inside it")
    notify_secrets = {ref if isinstance(ref, str) else ref.get("target", ref["source"]) for ref in notify.get("secrets") or []}
    for company in (plain, routing):
        for channel in (company or {}).get("channels") or []:
            for key in ("url_file", "secret_file"):
                f = channel.get(key)
                if f and (not f.startswith("/run/secrets/") or f.rsplit("/", 1)[1] not in notify_secrets):
                    fail(f"deploy/monitors: channel {channel['name']}'s {key} {f} is not a secret mounted into notify")
    ok("compose: a monitor per component and dependency, internal, mounted into notify with its channels' secrets")

    k8s = check_platform_monitors(MONITORS_FILES[2], components, set(COMPONENTS) | DEPENDENCIES)
    rendered = yaml.safe_load_all(kustomize(ROOT / "deploy" / "k8s" / "overlays" / "prod"))
    by_kind = {}
    for d in rendered:
        if d:
            by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    dep = by_kind["Deployment"]["notify"]["spec"]["template"]["spec"]
    container = dep["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in dep.get("volumes") or []}
    maps = [n for n, v in volumes.items() if (v.get("configMap") or {}).get("name", "").startswith("atmr-monitors")]
    if not maps or env.get("ATMR_MONITORS_FILE") != f"{mounts.get(maps[0])}/monitors.yml":
        fail("deploy/k8s: notify does not mount the atmr-monitors ConfigMap with ATMR_MONITORS_FILE set to its monitors.yml")
    for channel in (k8s or {}).get("channels") or []:
        for key in ("url_file", "secret_file"):
            f = channel.get(key)
            if not f:
                continue
            directory, name = f.rsplit("/", 1)
            mounted = [n for n, p in mounts.items() if p == directory]
            items = [i["path"] for n in mounted for i in (volumes[n].get("secret") or {}).get("items") or []]
            if name not in items:
                fail(f"deploy/k8s/base/monitors.yml: channel {channel['name']}'s {key} {f} is not mounted from atmr-notify")
    for component, port in ADMIN_PORTS.items():
        policy = by_kind["NetworkPolicy"][component]["spec"]
        admits = any(
            any(p.get("port") == port for p in rule.get("ports") or [])
            and any((f.get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "notify" for f in rule.get("from") or [])
            for rule in policy.get("ingress") or []
        )
        if not admits:
            fail(f"deploy/k8s: {component}'s NetworkPolicy does not let notify's monitors reach its admin port {port}")
    ok("deploy/k8s: a monitor per component and dependency; notify mounts them and may reach each admin port")


def check_routing_profile():
    print("routing profile (OSRM)")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    osrm = compose["services"].get("osrm")
    script = ROOT / "scripts" / "osrm-prepare.sh"
    if osrm is None:
        fail("docker-compose.yml has no osrm service")
        return
    image = osrm.get("image", "")
    if osrm.get("profiles") != ["routing"]:
        fail("docker-compose.yml: osrm must run in the `routing` profile only")
    if not re.fullmatch(r"ghcr\.io/project-osrm/osrm-backend(:v\d+\.\d+\.\d+)?(@sha256:[0-9a-f]{64})?", image) or image.endswith("osrm-backend"):
        fail(f"docker-compose.yml: osrm's image {image} is not pinned to a release or digest")
    text = script.read_text() if script.exists() else ""
    if f'image="{image}"' not in text:
        fail("scripts/osrm-prepare.sh does not prepare with the image docker-compose.yml pins")
    volume = (compose.get("volumes") or {}).get("osrm-data") or {}
    if not any(v.startswith("osrm-data:/data") for v in osrm.get("volumes") or []) or f'volume="${{OSRM_VOLUME:-{volume.get("name")}}}"' not in text:
        fail("scripts/osrm-prepare.sh does not write the volume osrm serves (osrm-data, named in docker-compose.yml)")
    r = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"scripts/osrm-prepare.sh: {r.stderr.strip()}")
    for step in ("osrm-extract", "osrm-partition", "osrm-customize"):
        if step not in text:
            fail(f"scripts/osrm-prepare.sh does not run {step}")
    if "--algorithm" not in osrm.get("command", []) or "mld" not in osrm.get("command", []):
        fail("docker-compose.yml: osrm must serve the MLD graph the script prepares (--algorithm mld)")
    if "DISPATCH_OSRM_URL" not in compose["services"]["dispatch"].get("environment", {}):
        fail("docker-compose.yml: dispatch does not read DISPATCH_OSRM_URL")
    if "# DISPATCH_OSRM_URL=http://osrm:5000" not in (ROOT / ".env.example").read_text():
        fail(".env.example does not show DISPATCH_OSRM_URL=http://osrm:5000 for the routing profile")
    ok(f"osrm pinned ({image}), prepared by scripts/osrm-prepare.sh into the volume it serves; dispatch reads DISPATCH_OSRM_URL")


def main():
    check_dockerfile()
    check_compose()
    check_kubernetes()
    check_observability()
    check_alerting()
    check_monitors()
    check_routing_profile()
    if failures:
        print(f"\n{len(failures)} problem(s) in the deployment files")
        sys.exit(1)
    print("\ndeployment files: all checks passed")


if __name__ == "__main__":
    main()
