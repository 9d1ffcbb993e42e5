#!/usr/bin/env bash
# Builds the local test environment: kube-apiserver and kubectl from k8s.io/kubernetes, etcd from
# go.etcd.io/etcd/server/v3, helm from helm.sh/helm/v3 (the chart's install test), and moto
# (IAM/STS/EKS) in a Python virtual environment (run by test/env/moto_server.py, which adds the IAM
# actions moto lacks), and the real amazon-eks-pod-identity-webhook (the
# mutating webhook EKS runs: it gives pods of an annotated ServiceAccount their role).
# Usage: setup.sh [kube] [etcd] [moto] [helm] [webhook] [ack]: the parts to build; none named means
# all but ack. `npm start` builds only what it runs (helm is for the chart's install test alone:
# 3 minutes cold). ack, the ACK iam-controller, is for `npm run bench -- --compare ack` alone, which
# builds it itself; it is never part of the default set.
# Outputs live in a cache keyed by version (default ~/.cache/irsa-operator, override with
# IRSA_TESTENV_CACHE), so a warm machine skips every step. Writes .cache/testenv.env in the repo:
# the paths the test harness and `npm start` use.
set -euo pipefail

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
MOTO_VERSION=5.2.5
# github.com/aws/amazon-eks-pod-identity-webhook at this commit: from the Go module proxy where it
# serves it, else from the snapshot in ../shared/third_party (see its README).
WEBHOOK_COMMIT=3bf80a348116483b2162190e43232e4d243f76c4
WEBHOOK_MODULE=github.com/aws/amazon-eks-pod-identity-webhook
# github.com/aws-controllers-k8s/iam-controller (runtime v0.62.0) at this commit, the peer that
# `npm run bench -- --compare ack` measures against: from the Go module proxy where it serves it,
# else from the snapshot in ../shared/third_party (see its README).
ACK_IAM_COMMIT=1bb7fc9fd927620ea0dd9b0b5aaa10d8e139128f
ACK_IAM_MODULE=github.com/aws-controllers-k8s/iam-controller

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${IRSA_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/irsa-operator}
kube_dir=$cache/kubernetes-$K8S_VERSION
etcd_dir=$cache/etcd-$ETCD_VERSION
moto_dir=$cache/moto-$MOTO_VERSION
webhook_dir=$cache/pod-identity-webhook-${WEBHOOK_COMMIT:0:12}
webhook_src=${IRSA_WEBHOOK_SRC:-$(dirname "$repo")/shared/third_party/amazon-eks-pod-identity-webhook}
ack_dir=$cache/ack-iam-controller-${ACK_IAM_COMMIT:0:12}
ack_src=${IRSA_ACK_IAM_SRC:-$(dirname "$repo")/shared/third_party/ack-iam-controller}
# helm's version is the one pinned in test/env/helm/go.mod (`go mod tidy` there after a bump).
HELM_VERSION=$(awk '$1 == "require" && $2 == "helm.sh/helm/v3" { print $3 }' "$here/helm/go.mod")
[ -n "$HELM_VERSION" ] || { printf '[env:setup] no helm.sh/helm/v3 require line in %s\n' "$here/helm/go.mod" >&2; exit 1; }
helm_dir=$cache/helm-$HELM_VERSION
mkdir -p "$cache" "$repo/.cache"

parts=("$@")
for p in "${parts[@]}"; do
  case $p in kube | etcd | moto | helm | webhook | ack) ;; *) printf '[env:setup] unknown part %s (kube, etcd, moto, helm, webhook, ack)\n' "$p" >&2; exit 2 ;; esac
done
want() {
  [ ${#parts[@]} -eq 0 ] && [ "$1" != ack ] && return 0
  local p
  for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done
  return 1
}
step() { printf '[env:setup] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { step "missing '$1': $2"; exit 1; }; }

# go_pinned DIR OUT MODULE PKG COMMIT SRC SRC_ENV LDFLAGS: DIR/OUT built from MODULE/PKG at COMMIT,
# by `go install` where the module proxy serves it (tried once: it answers at once when it
# refuses, 403 here; the timeout bounds a direct fetch), else by `go build` of the source snapshot
# SRC (SRC_ENV names another checkout). Sets go_pinned_from to SRC when it built the snapshot,
# else to nothing (the module is in Go's module cache).
go_pinned() {
  local dir=$1 out=$2 module=$3 pkg=$4 commit=$5 src=$6 src_env=$7 ldflags=$8
  local bounded=(); command -v timeout >/dev/null 2>&1 && bounded=(timeout 600)
  rm -rf "$dir/bin"
  if GOBIN="$dir/bin" GOFLAGS="$GOFLAGS -mod=mod" "${bounded[@]}" go install -ldflags "$ldflags" "$module${pkg:+/$pkg}@$commit" 2>"$dir/go-install.log"; then
    mv "$dir/bin/"* "$dir/$out"
    rm -rf "$dir/bin" "$dir/go-install.log"
    go_pinned_from=
  elif [ -f "$src/go.mod" ]; then
    step "go install failed ($(tail -n1 "$dir/go-install.log" | sed 's/^[[:space:]]*//')): building the snapshot in $src"
    rm -f "$dir/go-install.log"
    (cd "$src" && go build -buildvcs=false -ldflags "$ldflags" -o "$dir/$out.tmp" "./$pkg")
    mv "$dir/$out.tmp" "$dir/$out"
    go_pinned_from=$src
  else
    cat "$dir/go-install.log" >&2
    step "cannot get $module@$commit: go install failed and $src is missing ($src_env names another checkout)"
    exit 1
  fi
}

export CGO_ENABLED=0 GOFLAGS=-trimpath
build_go() { # dir output package version-ldflags
  local mod=$1 out=$2 pkg=$3 ldflags=$4
  local t0=$SECONDS
  step "building $(basename "$out") ($pkg) ... (cold: several minutes on 2 cores)"
  (cd "$mod" && go build -ldflags "$ldflags" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  step "built $(basename "$out") in $((SECONDS - t0)) s"
}

if want etcd && [ ! -x "$etcd_dir/etcd" ]; then
  need go "install Go 1.24 or newer (https://go.dev/dl) or from your distribution"
  mkdir -p "$etcd_dir"
  build_go "$here/etcd" "$etcd_dir/etcd" . "-s -w"
elif want etcd; then
  step "etcd $ETCD_VERSION: cached in $etcd_dir"
fi

if want kube && { [ ! -x "$kube_dir/kube-apiserver" ] || [ ! -x "$kube_dir/kubectl" ]; }; then
  need go "install Go 1.24 or newer (https://go.dev/dl) or from your distribution"
  mkdir -p "$kube_dir"
  vflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  vflags="$vflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  [ -x "$kube_dir/kube-apiserver" ] || build_go "$here/kube" "$kube_dir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$vflags"
  [ -x "$kube_dir/kubectl" ] || build_go "$here/kube" "$kube_dir/kubectl" k8s.io/kubernetes/cmd/kubectl "$vflags"
elif want kube; then
  step "kube-apiserver, kubectl $K8S_VERSION: cached in $kube_dir"
fi

if ! want helm; then
  :
elif [ ! -x "$helm_dir/helm" ]; then
  need go "install Go 1.24 or newer (https://go.dev/dl) or from your distribution; go.mod asks for 1.26, which GOTOOLCHAIN=auto fetches"
  mkdir -p "$helm_dir"
  # As helm's Makefile: the version, and the Kubernetes version .Capabilities defaults to, from client-go.
  client_go=$(cd "$here/helm" && go list -m -f '{{.Version}}' k8s.io/client-go)
  k8s_minor=$(echo "$client_go" | cut -d. -f2)
  hflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  hflags="$hflags -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor"
  hflags="$hflags -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
  build_go "$here/helm" "$helm_dir/helm" helm.sh/helm/v3/cmd/helm "$hflags"
else
  step "helm $HELM_VERSION: cached in $helm_dir"
fi

if ! want webhook; then
  :
elif [ ! -x "$webhook_dir/pod-identity-webhook" ]; then
  need go "install Go 1.21 or newer (https://go.dev/dl) or from your distribution; the webhook's go.mod asks for 1.26.5, which GOTOOLCHAIN=auto fetches"
  mkdir -p "$webhook_dir"
  t0=$SECONDS
  wflags="-s -w -X main.webhookVersion=${WEBHOOK_COMMIT:0:12}"
  step "building pod-identity-webhook ($WEBHOOK_MODULE@${WEBHOOK_COMMIT:0:12}) ... (cold: about a minute)"
  go_pinned "$webhook_dir" pod-identity-webhook "$WEBHOOK_MODULE" "" "$WEBHOOK_COMMIT" "$webhook_src" IRSA_WEBHOOK_SRC "$wflags"
  step "built pod-identity-webhook in $((SECONDS - t0)) s"
else
  step "pod-identity-webhook ${WEBHOOK_COMMIT:0:12}: cached in $webhook_dir"
fi

if ! want ack; then
  :
elif [ ! -x "$ack_dir/ack-iam-controller" ] || [ ! -d "$ack_dir/crds" ]; then
  need go "install Go 1.21 or newer (https://go.dev/dl) or from your distribution; the controller's go.mod asks for 1.25, which GOTOOLCHAIN=auto fetches"
  mkdir -p "$ack_dir"
  t0=$SECONDS
  aflags="-s -w -X $ACK_IAM_MODULE/pkg/version.GitCommit=$ACK_IAM_COMMIT -X $ACK_IAM_MODULE/pkg/version.GitVersion=${ACK_IAM_COMMIT:0:12}"
  step "building ack-iam-controller ($ACK_IAM_MODULE@${ACK_IAM_COMMIT:0:12}) ... (cold: a few minutes)"
  go_pinned "$ack_dir" ack-iam-controller "$ACK_IAM_MODULE" cmd/controller "$ACK_IAM_COMMIT" "$ack_src" IRSA_ACK_IAM_SRC "$aflags"
  # The CRDs come from the same module version: the snapshot, or the module cache.
  crd_src=${go_pinned_from:-$(go mod download -json "$ACK_IAM_MODULE@$ACK_IAM_COMMIT" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')}
  # The CRDs the controller serves, from the same source: the bench applies them.
  rm -rf "$ack_dir/crds.tmp" && mkdir -p "$ack_dir/crds.tmp"
  cp "$crd_src"/config/crd/bases/*.yaml "$crd_src"/config/crd/common/bases/*.yaml "$ack_dir/crds.tmp/"
  rm -rf "$ack_dir/crds" && mv "$ack_dir/crds.tmp" "$ack_dir/crds"
  step "built ack-iam-controller in $((SECONDS - t0)) s"
else
  step "ack-iam-controller ${ACK_IAM_COMMIT:0:12}: cached in $ack_dir"
fi

if ! want moto; then
  :
elif [ ! -f "$moto_dir/.complete" ]; then
  need python3 "install Python 3.9 or newer"
  t0=$SECONDS
  step "installing moto[server]==$MOTO_VERSION into $moto_dir"
  rm -rf "$moto_dir"
  python3 -m venv "$moto_dir"
  "$moto_dir/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  touch "$moto_dir/.complete"
  step "installed moto in $((SECONDS - t0)) s"
else
  step "moto $MOTO_VERSION: cached in $moto_dir"
fi

cat > "$repo/.cache/testenv.env" <<ENV
K8S_VERSION=$K8S_VERSION
KUBE_APISERVER=$kube_dir/kube-apiserver
KUBECTL=$kube_dir/kubectl
ETCD=$etcd_dir/etcd
MOTO_PYTHON=$moto_dir/bin/python3
HELM=$helm_dir/helm
POD_IDENTITY_WEBHOOK=$webhook_dir/pod-identity-webhook
ACK_IAM_COMMIT=$ACK_IAM_COMMIT
ACK_IAM_CONTROLLER=$ack_dir/ack-iam-controller
ACK_IAM_CRDS=$ack_dir/crds
ENV
step "ready: $repo/.cache/testenv.env"
