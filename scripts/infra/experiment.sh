#!/usr/bin/env bash
# Run `faasflow experiment KIND FILE...` on the gateway node of a provisioned cluster (docker or aws),
# so the load comes from inside the cluster network, and copy the results back into results/.
# Only workflows that need no build run this way (synthetic FaaSFlow v1 files, e.g. the overhead and
# data experiments); the node has no Go toolchain.
#
#   scripts/infra/experiment.sh PROVIDER KIND FILE... [-- EXTRA FLAGS]
#   e.g. scripts/infra/experiment.sh docker overhead ../shared/reference/faasflow/faasflow-v1/workflows/wordcount.flat_workflow.yaml -- -n 20
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROVIDER="$1" KIND="$2"; shift 2
DIR="${FAASFLOW_HOME:-$HOME/.faasflow}/clusters/$PROVIDER"
INV="$DIR/inventory.yml"
[ -f "$INV" ] || { echo "no $PROVIDER cluster is up (no $INV): make cluster up PROVIDER=$PROVIDER" >&2; exit 1; }
files=() extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
  files+=("$1"); shift
done
export ANSIBLE_CONFIG="$ROOT/ansible/ansible.cfg"
gateway="$(awk '/^gateway:/ {print $2}' "$DIR/cluster.yaml")"
remote=/var/lib/faasflow/experiment
stamp="$(date +%Y%m%d-%H%M%S)"
# As root: the faasflow CLI there reads the API token from /etc/faasflow/token (mode 0600).
ans() { ansible -i "$INV" gateway --become "$@"; }
ans -m ansible.builtin.file -a "path=$remote/workflows state=directory mode=0755" >/dev/null
names=()
for f in "${files[@]}"; do
  ans -m ansible.builtin.copy -a "src=$f dest=$remote/workflows/ mode=0644" >/dev/null
  names+=("workflows/$(basename "$f")")
done
ans -m ansible.builtin.command -a "chdir=$remote /usr/local/bin/faasflow experiment $KIND ${names[*]} --gateway $gateway --out $remote/results/$stamp ${extra[*]:-}" \
  | sed '1d'
mkdir -p "$ROOT/results"
ans -m community.general.archive -a "path=$remote/results/$stamp dest=$remote/results-$stamp.tar.gz format=gz mode=0644" >/dev/null
ans -m ansible.builtin.fetch -a "src=$remote/results-$stamp.tar.gz dest=$DIR/ flat=true" >/dev/null
mkdir -p "$ROOT/results/$PROVIDER-$stamp"
tar -C "$ROOT/results/$PROVIDER-$stamp" --strip-components=1 -xzf "$DIR/results-$stamp.tar.gz"
echo "results in results/$PROVIDER-$stamp/"
