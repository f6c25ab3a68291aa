#!/usr/bin/env bash
# Static checks of infra/ and ansible/, for `make check`. A tool that is not installed is skipped
# with a note (scripts/infra/tools.sh installs them), so the check also runs on a fresh machine.
#   terraform fmt -check       every stack
#   terraform validate         the stacks whose providers are in the local mirror (docker here)
#   ansible-playbook --syntax-check, ansible-lint
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rc=0
note() { printf '    %s\n' "$*"; }

echo "==> terraform fmt / validate"
tf="${FAASFLOW_TERRAFORM:-$(command -v terraform || command -v tofu || true)}"
if [ -z "$tf" ]; then
  note "terraform not installed; skipped (scripts/infra/tools.sh builds it)"
else
  rcfile="$("$ROOT/scripts/infra/providers.sh" env | sed -n 's/^export TF_CLI_CONFIG_FILE=//p')"
  [ -f "$rcfile" ] || rcfile=/dev/null
  TF_CLI_CONFIG_FILE="$rcfile" "$tf" fmt -check -recursive -diff "$ROOT/infra" || { echo "terraform fmt would change the files above: run terraform fmt -recursive infra"; rc=1; }
  for stack in "$ROOT"/infra/*/; do
    name="$(basename "$stack")"
    [ -n "$(ls "$stack"/*.tf 2>/dev/null)" ] || continue
    if [ "$name" = docker ] && [ "$rcfile" != /dev/null ]; then
      work="$(mktemp -d)"
      cp "$stack"/*.tf "$work/"
      if TF_CLI_CONFIG_FILE="$rcfile" "$tf" -chdir="$work" init -backend=false -input=false >"$work/init.log" 2>&1 \
          && TF_CLI_CONFIG_FILE="$rcfile" "$tf" -chdir="$work" validate -no-color; then
        :
      else
        cat "$work/init.log"; rc=1
      fi
      rm -rf "$work"
    else
      note "terraform validate infra/$name skipped: its providers are not in a local mirror (no registry reachable)"
    fi
  done
fi

echo "==> ansible-playbook --syntax-check"
if command -v ansible-playbook >/dev/null; then
  (cd "$ROOT/ansible" && ANSIBLE_CONFIG=ansible.cfg ansible-playbook --syntax-check -i inventory.example.yml site.yml check.yml) >/tmp/faasflow-syntax.$$ 2>&1 \
    || { cat /tmp/faasflow-syntax.$$; rc=1; }
  rm -f /tmp/faasflow-syntax.$$
else
  note "ansible-playbook not installed; skipped (scripts/infra/tools.sh installs it)"
fi

echo "==> ansible-lint"
if command -v ansible-lint >/dev/null; then
  (cd "$ROOT/ansible" && ansible-lint -p --nocolor -q) || rc=1
else
  note "ansible-lint not installed; skipped (scripts/infra/tools.sh installs it)"
fi
exit "$rc"
