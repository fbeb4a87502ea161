#!/usr/bin/env bash
# Checks the Kubernetes manifests in deploy/k8s without a cluster: renders
# each overlay with `kubectl kustomize`, validates every resource with
# `kubernetes-validate --strict` (the API's OpenAPI schemas, bundled in the
# package, so it works offline; --strict refuses fields the schema does not
# know), and checks what the schemas cannot: the kinds each overlay must
# hold, and what every Deployment must have (probes, resources, security,
# metrics, the token) and refer to. Nothing is applied anywhere.
#
#   scripts/k8s-validate.sh
#
# Needs kubectl (for kustomize) and python3. Installs kubernetes-validate
# (and PyYAML) with pip if missing. K8S_VERSIONS (default "1.30.0 1.37.0")
# names the Kubernetes versions whose schemas to validate against; they
# must be bundled in the installed kubernetes-validate.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
esac

versions=${K8S_VERSIONS:-1.30.0 1.37.0}
validate_version=1.37.0 # the kubernetes-validate these manifests were checked with

if ! command -v kubectl >/dev/null; then
    echo "k8s-validate: kubectl is missing (it renders the overlays: kubectl kustomize)" >&2
    exit 1
fi
if ! command -v kubernetes-validate >/dev/null; then
    echo "kubernetes-validate is missing: installing kubernetes-validate==$validate_version with pip ..." >&2
    python3 -m pip install --quiet "kubernetes-validate==$validate_version" || {
        echo "k8s-validate: pip could not install kubernetes-validate (in a managed Python, use a venv or pipx)" >&2
        exit 1
    }
    if ! command -v kubernetes-validate >/dev/null; then
        echo "k8s-validate: kubernetes-validate is installed but not on PATH (pip's scripts directory)" >&2
        exit 1
    fi
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "PyYAML is missing: installing it with pip ..." >&2
    python3 -m pip install --quiet pyyaml
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p'), $(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: /kustomize /p'), kubernetes-validate $(kubernetes-validate --version 2>&1 | tail -n 1)"

failed=0
# overlay, then the kinds its rendering must hold.
for entry in \
    "monolith Deployment Service Secret PersistentVolumeClaim PodDisruptionBudget" \
    "microservices Deployment Service Secret PersistentVolumeClaim PodDisruptionBudget HorizontalPodAutoscaler"; do
    read -r overlay kinds <<<"$entry"
    dir=deploy/k8s/overlays/$overlay
    rendered=$scratch/$overlay.yaml
    echo
    echo "== $dir"
    if ! kubectl kustomize "$dir" >"$rendered"; then
        echo "FAIL kubectl kustomize $dir" >&2
        failed=1
        continue
    fi
    echo "rendered: kubectl kustomize $dir ($(grep -c '^kind: ' "$rendered") resources)"
    for version in $versions; do
        if kubernetes-validate --strict --quiet -k "$version" "$rendered"; then
            echo "valid:    kubernetes-validate --strict -k $version: every resource"
        else
            echo "FAIL kubernetes-validate --strict -k $version ($dir)" >&2
            failed=1
        fi
    done
    if ! python3 - "$rendered" $kinds <<'PYTHON'; then
"""What a schema cannot say about the rendered overlay in argv[1]: argv[2:]
are the kinds it must hold."""
import sys
import yaml

path, kinds = sys.argv[1], sys.argv[2:]
docs = [doc for doc in yaml.safe_load_all(open(path)) if doc]
problems = []
by_kind = {}
for doc in docs:
    by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc

for kind in kinds:
    if kind not in by_kind:
        problems.append(f"no {kind}")
print("kinds:    " + ", ".join(f"{kind} {len(by_kind.get(kind, {}))}" for kind in kinds))

def selects(selector, labels):
    return all(labels.get(key) == value for key, value in selector.items())

pod_labels = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in by_kind.get("Deployment", {}).items()}
for name, deployment in by_kind.get("Deployment", {}).items():
    where = f"Deployment {name}"
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    containers = spec["containers"]
    if len(containers) != 1:
        problems.append(f"{where}: {len(containers)} containers, not 1 (the shared pod patch did not merge?)")
        continue
    container = containers[0]
    if not container.get("image", "").startswith("shoplab-"):
        problems.append(f"{where}: image {container.get('image')!r}")
    args = container.get("args", [])
    for flag in ("--addr=0.0.0.0:8080", "--metrics-addr=0.0.0.0:9090"):
        if flag not in args:
            problems.append(f"{where}: no {flag} in args")
    notice_ms = [int(a.split("=", 1)[1]) for a in args if a.startswith("--drain-notice-ms=")]
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if not notice_ms:
        problems.append(f"{where}: no --drain-notice-ms")
    elif grace * 1000 < notice_ms[0] + 10_000:
        problems.append(f"{where}: terminationGracePeriodSeconds {grace} < drain notice + 10 s")
    # Probes: readiness GET /health; liveness GET /health, or a TCP check
    # for the gateway; one handler each.
    handlers = ("httpGet", "tcpSocket", "exec", "grpc")
    for probe in ("readinessProbe", "livenessProbe"):
        found = [h for h in handlers if h in container.get(probe, {})]
        if len(found) != 1:
            problems.append(f"{where}: {probe} has handlers {found}, not exactly one")
    readiness = container.get("readinessProbe", {}).get("httpGet", {})
    if readiness.get("path") != "/health":
        problems.append(f"{where}: readiness is not GET /health")
    liveness = container.get("livenessProbe", {})
    if name == "gateway":
        if "tcpSocket" not in liveness:
            problems.append(f"{where}: liveness is not a TCP check (its /health depends on every service)")
    elif liveness.get("httpGet", {}).get("path") != "/health":
        problems.append(f"{where}: liveness is not GET /health")
    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(part, {}):
                problems.append(f"{where}: no {part}.{resource}")
    pod_security = spec.get("securityContext", {})
    for key, value in (("runAsNonRoot", True), ("runAsUser", 10001), ("runAsGroup", 10001), ("fsGroup", 10001)):
        if pod_security.get(key) != value:
            problems.append(f"{where}: pod securityContext.{key} is not {value}")
    if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile is not RuntimeDefault")
    security = container.get("securityContext", {})
    if security.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: root filesystem not read-only")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: privilege escalation allowed")
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        problems.append(f"{where}: capabilities not all dropped")
    if container.get("imagePullPolicy") != "IfNotPresent":
        problems.append(f"{where}: imagePullPolicy is not IfNotPresent")
    annotations = pod.get("metadata", {}).get("annotations", {})
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != str(ports.get("metrics")):
        problems.append(f"{where}: Prometheus annotations do not name the metrics port")
    # The data volume is mounted at the image's data directory, and every
    # reference resolves within the overlay.
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    if mounts.get("/var/lib/shoplab/data") not in volumes:
        problems.append(f"{where}: /var/lib/shoplab/data is not a volume")
    for volume in volumes.values():
        claim = volume.get("persistentVolumeClaim", {}).get("claimName")
        if claim and claim not in by_kind.get("PersistentVolumeClaim", {}):
            problems.append(f"{where}: claims {claim}, which the overlay does not define")
    secrets = [e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e]
    if not secrets:
        problems.append(f"{where}: no Secret for SHOPLAB_INTERNAL_TOKEN")
    for secret in secrets:
        data = by_kind.get("Secret", {}).get(secret, {}).get("data", {})
        if "SHOPLAB_INTERNAL_TOKEN" not in data:
            problems.append(f"{where}: Secret {secret} holds no SHOPLAB_INTERNAL_TOKEN")
print(f"pods:     Deployments ({len(pod_labels)}): probes, resources, security, metrics, token, data volume")

for kind in ("Service", "PodDisruptionBudget"):
    for name, doc in by_kind.get(kind, {}).items():
        selector = doc["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        if not any(selects(selector, labels) for labels in pod_labels.values()):
            problems.append(f"{kind} {name} selects no Deployment's pods")
for name, hpa in by_kind.get("HorizontalPodAutoscaler", {}).items():
    target = hpa["spec"]["scaleTargetRef"]
    if target["name"] not in by_kind.get(target["kind"], {}):
        problems.append(f"HorizontalPodAutoscaler {name} scales {target['kind']} {target['name']}, not in the overlay")
print("refs:     Services and PodDisruptionBudgets select pods, HPAs name their Deployments")

for problem in problems:
    print(f"FAIL {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PYTHON
        echo "FAIL checks of $dir" >&2
        failed=1
    fi
done

echo
if [ "$failed" -ne 0 ]; then
    echo "k8s-validate: FAILED" >&2
    exit 1
fi
echo "k8s-validate: both overlays render and validate (nothing was applied: no cluster)"
