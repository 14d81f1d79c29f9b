#!/usr/bin/env python3
"""Static checks of the deployment files, for a machine without a container
engine (CI runs it; so can anyone before a deploy):

- docker-compose.yml against the Compose specification's JSON schema, plus what
  a schema cannot say: secrets only from .env, documented in .env.example; a
  health check on every component; mounted files that exist.
- deploy/k8s: both overlays rendered with kustomize and validated against the
  Kubernetes JSON schemas (kubernetes-validate, strict), plus the rules of the
  deploy issue: three probes per Deployment, requests and limits, a PDB each,
  HPAs for gateway and dispatch, a grace period covering preStop + drain.
- deploy/observability: every PromQL expression parses, and every metric it
  reads is one the components register (found in the Rust sources).

Needs: PyYAML, jsonschema, kubernetes-validate, promql-parser (PyPI), and
`kubectl kustomize` or `kustomize`. Usage: python3 scripts/check-deploy.py
"""

import io
import json
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
    for var in sorted(example - used):
        fail(f".env.example documents {var}, which docker-compose.yml never reads")
    ok(f"{len(used)} variables from .env, all documented")

    services = doc["services"]
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            secret = re.search(r"PASSWORD|SECRET|SIGNING_KEY|TOKEN", key)
            if secret and isinstance(value, str) and value and "${" not in value:
                fail(f"{name}: {key} has a literal value; secrets come from .env")
            if isinstance(value, str) and re.search(r"://[^:/]+:[^@$]+@", value):
                fail(f"{name}: {key} embeds a literal password")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                fail(f"{name} depends on unknown service {dep}")
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./") and not (ROOT / source).exists():
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
        if deps.get("migrate", {}).get("condition") != "service_completed_successfully":
            fail(f"{component} does not wait for the migrations")
    redis = " ".join(services["redis"]["command"])
    if "--appendonly yes" not in redis or "--maxmemory" not in redis:
        fail("redis must be append-only with a memory limit")
    ok(f"{len(services)} services: components health-checked, started after migrate")


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
    if "Secret" in by_kind:
        fail(f"{name}: a Secret is rendered; secrets are created out of band")
    if "default-deny-ingress" not in by_kind.get("NetworkPolicy", {}):
        fail(f"{name}: no default-deny NetworkPolicy")
    ok(f"overlay {name}: {len(docs)} objects; probes, resources, PDBs, HPAs, policies, grace periods")


def check_kubernetes():
    print("deploy/k8s")
    for overlay in ("dev", "prod"):
        check_overlay(overlay)
    if kubernetes_validate(ROOT / "deploy" / "k8s" / "secret.template.yaml"):
        ok("secret.template.yaml valid")
    template = yaml.safe_load((ROOT / "deploy" / "k8s" / "secret.template.yaml").read_text())
    filled = [k for k, v in template["stringData"].items() if v]
    if filled:
        fail(f"secret.template.yaml has values for {filled}: it must hold none")


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


def check_observability():
    print("deploy/observability")
    exported = exported_metrics()
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


def main():
    check_dockerfile()
    check_compose()
    check_kubernetes()
    check_observability()
    if failures:
        print(f"\n{len(failures)} problem(s) in the deployment files")
        sys.exit(1)
    print("\ndeployment files: all checks passed")


if __name__ == "__main__":
    main()
