#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests. Another package manager holding apt's lock (an unattended
# upgrade, a second `make test`) is waited for, not treated as a failure.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "==> installing Debian's chromium for the browser tests"
apt_retry() {
  for attempt in $(seq 1 60); do
    # DPkg::Lock::Timeout makes apt itself wait for dpkg's lock; the loop covers the lists lock of `update`.
    if apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"; then return 0; fi
    if command -v fuser >/dev/null && ! fuser /var/lib/apt/lists/lock /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock >/dev/null 2>&1; then
      return 1  # failed for another reason than a lock: do not hide it
    fi
    echo "    apt is busy (another package manager holds its lock); waiting... ($attempt/60)"
    sleep 10
  done
  return 1
}
apt_retry update
apt_retry install -y --no-install-recommends chromium
