#!/usr/bin/env bash
# Terraform CLI and the providers the infra/ stacks use, for a machine where no provider registry is
# reachable. Providers are built from Go source (through the Go module proxy) into a filesystem mirror,
# under the project's own provider host name (faasflow.local), and a CLI configuration file that
# points Terraform at that mirror only is written beside it. Everything lives in the cache, outside
# the clone, and is built once per pin.
#
#   scripts/infra/providers.sh          build what is missing; print `export TF_CLI_CONFIG_FILE=...`
#                                        and `export FAASFLOW_TERRAFORM=...`
#   scripts/infra/providers.sh env      print the exports only (build nothing)
#
# Pins: the docker provider is kreuzwerker/terraform-provider-docker at the commit below (its go.mod
# declares github.com/terraform-providers/terraform-provider-docker, hence the replace in the tool
# module); it is registered in the mirror as DOCKER_PROVIDER_VERSION, the release it follows.
# The Terraform CLI is taken from PATH when there is one, else built (v1.5.7, the last MPL release).
set -euo pipefail

CACHE="${FAASFLOW_CACHE:-$HOME/.cache/faasflow}/terraform"
DOCKER_PROVIDER_COMMIT="v0.0.0-20260916201441-96d331c98ff4"
DOCKER_PROVIDER_VERSION="4.6.0"
TERRAFORM_VERSION="v1.5.7"
MIRROR="$CACHE/mirror"
RC="$CACHE/terraformrc"
PLATFORM="$(go env GOOS)_$(go env GOARCH)"

say() { printf '[providers] %s\n' "$*" >&2; }
die() { printf '[providers] error: %s\n' "$*" >&2; exit 1; }

# terraform_bin: the Terraform CLI on PATH, or one built into the cache.
terraform_bin() {
  if [ -n "${FAASFLOW_TERRAFORM:-}" ] && [ -x "$FAASFLOW_TERRAFORM" ]; then echo "$FAASFLOW_TERRAFORM"; return; fi
  if command -v terraform >/dev/null; then command -v terraform; return; fi
  if command -v tofu >/dev/null; then command -v tofu; return; fi
  echo "$CACHE/bin/terraform"
}

build_terraform() {
  local bin; bin="$(terraform_bin)"
  [ -x "$bin" ] && return 0
  say "no terraform on PATH: building github.com/hashicorp/terraform@$TERRAFORM_VERSION into $CACHE/bin (about 8 minutes cold)"
  local t0=$SECONDS
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" CGO_ENABLED=0 GOFLAGS= go install "github.com/hashicorp/terraform@$TERRAFORM_VERSION" >&2 \
    || die "building terraform failed"
  say "built terraform in $((SECONDS - t0))s"
}

build_docker_provider() {
  local name="terraform-provider-docker_v$DOCKER_PROVIDER_VERSION" dir
  # The stacks name the provider faasflow.local/kreuzwerker/docker, so one mirror path serves Terraform
  # and OpenTofu alike.
  local first="$MIRROR/faasflow.local/kreuzwerker/docker/$DOCKER_PROVIDER_VERSION/$PLATFORM"
  if [ ! -x "$first/$name" ]; then
    say "building kreuzwerker/docker $DOCKER_PROVIDER_VERSION ($DOCKER_PROVIDER_COMMIT) from Go source (a few minutes cold)"
    local t0=$SECONDS
    dir="$CACHE/src/docker-$DOCKER_PROVIDER_COMMIT"
    mkdir -p "$dir" "$first"
    cat >"$dir/go.mod" <<MOD
module faasflow.local/terraform-provider-docker

go 1.25

require github.com/terraform-providers/terraform-provider-docker v0.0.0

replace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker $DOCKER_PROVIDER_COMMIT
MOD
    (cd "$dir" && GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$first/$name.tmp" \
        github.com/terraform-providers/terraform-provider-docker >&2) || die "building the docker provider failed"
    mv "$first/$name.tmp" "$first/$name"
    say "built the docker provider in $((SECONDS - t0))s"
  fi
}

write_rc() {
  mkdir -p "$CACHE"
  cat >"$RC.tmp" <<RCFILE
# Written by scripts/infra/providers.sh: providers come from the local mirror only.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["*/*/*"]
  }
  direct {
    exclude = ["*/*/*"]
  }
}
disable_checkpoint = true
RCFILE
  mv "$RC.tmp" "$RC"
}

print_env() {
  echo "export TF_CLI_CONFIG_FILE=$RC"
  echo "export FAASFLOW_TERRAFORM=$(terraform_bin)"
}

case "${1:-build}" in
  env) print_env ;;
  build)
    command -v go >/dev/null || die "a Go toolchain is needed to build the providers"
    build_terraform
    build_docker_provider
    write_rc
    print_env
    ;;
  *) echo "usage: $0 [build|env]" >&2; exit 2 ;;
esac
