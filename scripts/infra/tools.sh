#!/usr/bin/env bash
# Install what the infra checks and the docker provider need: Ansible and ansible-lint (Debian
# packages), debootstrap and dpkg-dev (node image), then Terraform (if absent) and the docker
# provider into the cache (scripts/infra/providers.sh). Idempotent (a second run takes a second);
# needs root for apt-get. `make cluster up PROVIDER=docker|aws` runs it first.
set -euo pipefail
SERVICE=infra-tools
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../services/lib.sh"
apt_install ansible ansible-lint debootstrap dpkg-dev
exec "$(dirname "${BASH_SOURCE[0]}")/providers.sh"
