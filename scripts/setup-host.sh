#!/usr/bin/env bash
# Prepares a Debian 12 host to build pods and run every test tier: installs the system packages that are
# missing, makes /dev/kvm root:kvm 0660 (libvirt re-probes QEMU on every call otherwise), and starts
# virtlogd and libvirtd when they are not running (there may be no systemd). Idempotent; run as root.
set -euo pipefail

PACKAGES=(
  openjdk-17-jdk-headless maven            # the build
  qemu-system-x86 qemu-utils               # guests (KVM where it works, TCG otherwise) and qcow2 overlays
  libvirt-daemon-system libvirt-clients    # libvirtd, virtlogd, virsh; libvirt0 for libvirt-java over JNA
  dnsmasq-base nftables iproute2           # per-instance networks: DHCP/DNS, NAT and firewall, namespaces
  genisoimage                              # NoCloud seeds (ISO9660 volume 'cidata')
  cpio mmdebstrap e2fsprogs busybox-static # guest images from Debian packages; stand-in VMs in network tests
  openssh-server                           # sshd for the qemu+ssh:// remote-URI test (RemoteUriIT)
  curl                                     # bin/demo asks the example load balancer from its namespace
  bind9 bind9-dnsutils                     # BIND 9 and nsupdate: the RFC 2136 DNS provider's tests and benchmark
  etcd-server                              # /usr/bin/etcd: pods-etcd's tests start their own members on loopback
)

log() { printf 'setup-host: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "run as root (it installs packages and starts libvirtd)"; exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -e /dev/kvm ]; then
  if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ] && getent group kvm >/dev/null; then
    log "setting /dev/kvm to root:kvm 0660"
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
fi

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! running /run/virtlogd.pid; then log "starting virtlogd"; virtlogd -d; fi
if ! running /run/libvirtd.pid; then log "starting libvirtd"; libvirtd -d; fi
for _ in $(seq 300); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.1
done
log "libvirtd does not answer on qemu:///system"; exit 1
