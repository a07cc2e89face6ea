#!/usr/bin/env bash
# npm run test:deps: installs the Debian packages of scripts/test-deps.txt whose command or
# file is missing, so that `npm test` runs every test. .ci/run calls it on a fresh machine.
set -euo pipefail
list="$(dirname "$0")/test-deps.txt"

packages=()
while read -r need package _; do
  [[ -z "${need}" || "${need}" == \#* ]] && continue
  if [[ "${need}" == /* ]]; then [[ -e "${need}" ]] && continue
  else command -v "${need}" >/dev/null 2>&1 && continue
  fi
  [[ " ${packages[*]-} " == *" ${package} "* ]] || packages+=("${package}")
done < "${list}"

if [[ "${#packages[@]}" -eq 0 ]]; then
  echo "test:deps: everything in scripts/test-deps.txt is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test:deps: no apt-get here; install these packages (Debian names) by hand: ${packages[*]}" >&2
  exit 1
fi
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "test:deps: run as root (apt-get install ${packages[*]})" >&2; exit 1; }
  sudo=(sudo)
fi

echo "test:deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests start snmpd, dnsmasq, chrony, kamailio, xl2tpd and sshd themselves, on their own
# ports: keep apt from starting the system services (they would hold the well-known ports).
added_policy=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
  added_policy=1
fi
trap '[[ -z "${added_policy}" ]] || "${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# A checkout installed before the compilers came could not build the native probers nor the
# optional raw-socket module: install again now that it can (.ci/run runs npm ci afterwards anyway).
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -d "${root}/node_modules" ]]; then
  echo "test:deps: npm install again, to build the native parts with the new tools"
  (cd "${root}" && npm install --no-audit --no-fund)
fi
echo "test:deps: done"
