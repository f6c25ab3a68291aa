#!/usr/bin/env bash
# Install what the infra checks and the docker provider need: Ansible and ansible-lint (Debian
# packages), debootstrap and dpkg-dev (node image), then Terraform (if absent) and the docker
# provider into the cache (scripts/infra/providers.sh). Idempotent; needs root for apt-get.
set -euo pipefail
missing=()
for p in ansible ansible-lint debootstrap dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[tools] installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
exec "$(dirname "${BASH_SOURCE[0]}")/providers.sh"
