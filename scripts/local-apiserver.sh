#!/usr/bin/env bash
# A real kube-apiserver + etcd (Kubernetes 1.35) on 127.0.0.1 for the deploy-time checks in
# `npm run test:contract`. No kubelet or scheduler: objects are validated and stored, never run.
# That is enough for strict schemas, CRD structural schemas and CEL rules, Pod Security admission,
# RBAC and ValidatingAdmissionPolicies. kube-controller-manager runs one controller only,
# clusterrole-aggregation, so the built-in view/edit/admin roles gain what charts aggregate into
# them exactly as on a real cluster (without it an RBAC check would pass for the wrong reason).
#
# The binaries are built from the Go module proxy (no other source of them is reachable from CI)
# once, into .tools/ (git-ignored), and reused. A cold build takes about 7 minutes on 2 cores.
#
#   scripts/local-apiserver.sh install   build etcd, kube-apiserver, kube-controller-manager, kubectl (cached)
#   scripts/local-apiserver.sh start     start both; prints the kubeconfig path when /readyz is ok
#   scripts/local-apiserver.sh stop      stop both and delete the instance's state
# Sourced, it defines las_install, las_start, las_stop and $LAS_BIN, $LAS_KUBECONFIG.
#
# Environment: K8S_VERSION (1.35.4), LAS_RUN (state of one instance; default a fresh temp dir,
# so parallel runs never share one), LAS_READY_TIMEOUT (seconds, 180), LAS_EXTRA_ARGS (more
# kube-apiserver flags, word-split), LAS_CONTROLLERS (kube-controller-manager's --controllers; the
# KServe controller test adds the deployment, replicaset and garbage-collector controllers, so an
# InferenceService becomes pods that go through admission).

LAS_K8S_VERSION=${K8S_VERSION:-1.35.4}
LAS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAS_BIN=$LAS_ROOT/.tools/kubernetes-v$LAS_K8S_VERSION/bin
LAS_RUN=${LAS_RUN:-}
LAS_KUBECONFIG=

las_log() { echo "[local-apiserver] $*" >&2; }

las_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  else return 1; fi
}

# kubernetes' own go.mod names its staging modules (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0
# with replaces into ./staging, which the module zip lacks. Our wrapper module maps each to the
# published v0.<minor>.<patch> and requires the etcd server kubernetes itself requires.
las_write_wrapper_module() {
  local go=$1 kmod staging etcd_version go_line minor=${LAS_K8S_VERSION#1.}
  kmod=$("$go" mod download -json "k8s.io/kubernetes@v$LAS_K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$kmod" ] || { las_log "the Go proxy did not serve k8s.io/kubernetes@v$LAS_K8S_VERSION"; return 1; }
  staging=$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$kmod" | sort -u)
  etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$kmod")
  go_line=$(awk '$1 == "go" { print $2; exit }' "$kmod")
  {
    printf 'module local/kube-apiserver-build\n\ngo %s\n\n' "$go_line"
    printf 'require (\n\tk8s.io/kubernetes v%s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\n' "$LAS_K8S_VERSION" "$etcd_version"
    printf 'replace (\n'
    for m in $staging; do printf '\t%s => %s v0.%s\n' "$m" "$m" "$minor"; done
    printf ')\n\ntool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kube-controller-manager\n\tk8s.io/kubernetes/cmd/kubectl\n\tgo.etcd.io/etcd/server/v3\n)\n'
  } > go.mod
}

las_install() {
  local b missing=
  for b in etcd kube-apiserver kube-controller-manager kubectl; do [ -x "$LAS_BIN/$b" ] || missing=1; done
  [ -z "$missing" ] && return 0
  local go src=$LAS_ROOT/.tools/kubernetes-v$LAS_K8S_VERSION/src start=$SECONDS
  go=$(las_go) || { las_log "Go >= 1.24 is needed to build kube-apiserver; install it and retry"; return 1; }
  mkdir -p "$src" "$LAS_BIN"
  las_log "building etcd, kube-apiserver, kube-controller-manager and kubectl v$LAS_K8S_VERSION (first run only, ~7 min)"
  (
    set -e
    cd "$src"
    export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0
    las_write_wrapper_module "$go"
    "$go" mod tidy
    # Version stamps so `kubectl version` and the server report v1.35.x, not v0.0.0 (skew warnings).
    local minor=${LAS_K8S_VERSION#1.} ldflags="-s -w" pkg
    minor=${minor%%.*}
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$LAS_K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    done
    "$go" build -trimpath -ldflags "-s -w" -o "$LAS_BIN/etcd.tmp" go.etcd.io/etcd/server/v3
    "$go" build -trimpath -ldflags "$ldflags" -o "$LAS_BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    "$go" build -trimpath -ldflags "$ldflags" -o "$LAS_BIN/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager
    "$go" build -trimpath -ldflags "$ldflags" -o "$LAS_BIN/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
    for b in etcd kube-apiserver kube-controller-manager kubectl; do mv "$LAS_BIN/$b.tmp" "$LAS_BIN/$b"; done
  ) || { las_log "build failed"; return 1; }
  las_log "built in $((SECONDS - start)) s"
}

# A port the kernel just handed out, so two runs on one machine never pick the same one; inside the
# contract tests, one of the session's own range (test/contract/ports.py).
las_free_port() {
  if [ -n "${CONTRACT_PORT_RANGE:-}" ]; then
    python3 "$LAS_ROOT/test/contract/ports.py"
  else
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  fi
}

las_spawn() {
  local pidfile=$1 logfile=$2; shift 2
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" > "$logfile" 2>&1 < /dev/null &
  local i
  for i in $(seq 100); do [ -s "$pidfile" ] && return 0; sleep 0.05; done
  las_log "could not start $3"; return 1
}

las_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

las_certs() {
  local pki=$1 ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  mkdir -p "$pki" && chmod 700 "$pki"
  (
    set -e
    cd "$pki"
    printf '%s\n' '[req]' 'distinguished_name = dn' '[dn]' \
      '[ca]' 'basicConstraints = critical,CA:TRUE' 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature' \
      '[server]' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage = serverAuth' 'subjectAltName = IP:127.0.0.1,DNS:localhost' > openssl.cnf
    # shellcheck disable=SC2086
    openssl req -x509 $ec -days 2 -subj /CN=local-apiserver-ca -config openssl.cnf -extensions ca \
      -keyout ca.key -out ca.crt 2>/dev/null
    # shellcheck disable=SC2086
    openssl req $ec -subj /CN=kube-apiserver -config openssl.cnf -keyout apiserver.key -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile openssl.cnf -extensions server -out apiserver.crt 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null
    openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
    # Static tokens: an admin, and plain users the RBAC checks impersonate nothing for.
    {
      echo "$(openssl rand -hex 24),local-admin,local-admin,\"system:masters\""
      echo "$(openssl rand -hex 24),editor,editor"
    } > tokens.csv
    chmod 600 ./*.key tokens.csv
  )
}

las_kubeconfig() {
  local pki=$1 port=$2 admin editor
  admin=$(sed -n 1p "$pki/tokens.csv" | cut -d, -f1)
  editor=$(sed -n 2p "$pki/tokens.csv" | cut -d, -f1)
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$pki/ca.crt"}
users:
- name: admin
  user: {token: "$admin"}
- name: editor
  user: {token: "$editor"}
contexts:
- name: local
  context: {cluster: local, user: admin, namespace: default}
- name: editor
  context: {cluster: local, user: editor, namespace: default}
current-context: local
EOF
}

# Starts etcd and kube-apiserver; prints the kubeconfig path once /readyz answers ok.
las_start() {
  las_install || return 1
  [ -n "$LAS_RUN" ] || LAS_RUN=$(mktemp -d "${TMPDIR:-/tmp}/cdk-mlops-apiserver-XXXXXX")
  mkdir -p "$LAS_RUN" && chmod 700 "$LAS_RUN"
  LAS_KUBECONFIG=$LAS_RUN/kubeconfig
  local pki=$LAS_RUN/pki port etcd_port peer_port started=$SECONDS
  las_certs "$pki" || { las_log "certificate generation failed (is openssl installed?)"; return 1; }
  port=$(las_free_port); etcd_port=$(las_free_port); peer_port=$(las_free_port)

  # Throwaway data: no fsync, loopback only, no TLS.
  las_spawn "$LAS_RUN/etcd.pid" "$LAS_RUN/etcd.log" "$LAS_BIN/etcd" --name local --data-dir "$LAS_RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "local=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn || return 1

  # No controller-manager creates `default` ServiceAccounts, so that admission plugin is off.
  # shellcheck disable=SC2086
  las_spawn "$LAS_RUN/kube-apiserver.pid" "$LAS_RUN/kube-apiserver.log" "$LAS_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --cert-dir "$pki" \
    --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    --disable-admission-plugins ServiceAccount --profiling=false ${LAS_EXTRA_ARGS:-} || return 1
  las_kubeconfig "$pki" "$port" > "$LAS_KUBECONFIG"
  chmod 600 "$LAS_KUBECONFIG"

  # A slow answer on a busy machine means "not ready yet", never failure: only the deadline fails.
  local deadline=$((SECONDS + ${LAS_READY_TIMEOUT:-180})) token answer
  token=$(sed -n 1p "$pki/tokens.csv" | cut -d, -f1)
  while :; do
    for p in etcd kube-apiserver; do
      if ! las_alive "$LAS_RUN/$p.pid"; then
        las_log "$p exited:"; tail -20 "$LAS_RUN/$p.log" >&2; las_stop keep; return 1
      fi
    done
    answer=$(curl -s --max-time 10 --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" \
      "https://127.0.0.1:$port/readyz" 2>/dev/null) || true
    [ "$answer" = ok ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      las_log "not ready after ${LAS_READY_TIMEOUT:-180} s; last /readyz: $answer"
      tail -20 "$LAS_RUN/kube-apiserver.log" >&2; las_stop keep; return 1
    fi
    sleep 0.2
  done
  # Only the aggregation controller unless asked for more; no serving port (nothing scrapes it), no leader election.
  las_spawn "$LAS_RUN/kube-controller-manager.pid" "$LAS_RUN/kube-controller-manager.log" \
    "$LAS_BIN/kube-controller-manager" --kubeconfig "$LAS_KUBECONFIG" --controllers "${LAS_CONTROLLERS:-clusterrole-aggregation}" \
    --leader-elect=false --secure-port 0 --use-service-account-credentials=false || { las_stop keep; return 1; }
  # The built-in admin role is empty until the controller has aggregated into it.
  while [ -z "$("$LAS_BIN/kubectl" --kubeconfig "$LAS_KUBECONFIG" get clusterrole admin -o jsonpath='{.rules}' 2>/dev/null)" ]; do
    if ! las_alive "$LAS_RUN/kube-controller-manager.pid" || [ "$SECONDS" -ge "$deadline" ]; then
      las_log "the clusterrole aggregation did not happen:"; tail -20 "$LAS_RUN/kube-controller-manager.log" >&2
      las_stop keep; return 1
    fi
    sleep 0.2
  done
  las_log "ready on https://127.0.0.1:$port in $((SECONDS - started)) s"
  echo "$LAS_KUBECONFIG"
}

# Stops both (TERM, then KILL after 10 s); `keep` leaves the logs for a post-mortem.
las_stop() {
  [ -n "$LAS_RUN" ] || return 0
  local p pid
  for p in kube-controller-manager kube-apiserver etcd; do
    [ -f "$LAS_RUN/$p.pid" ] || continue
    pid=$(cat "$LAS_RUN/$p.pid")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$LAS_RUN/$p.pid"
  done
  [ "${1:-}" = keep ] || rm -rf "$LAS_RUN"
  return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  case "${1:-}" in
    install) las_install ;;
    start) las_start ;;
    stop) [ -n "$LAS_RUN" ] || { echo "stop needs LAS_RUN (printed by start)" >&2; exit 2; }; las_stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
  esac
fi
