#!/bin/bash
# Builds pods guest images from Debian packages only (apt-get download + dpkg-deb -x, mmdebstrap).
#   build-guest.sh tiny OUT INIT        -> OUT/vmlinuz OUT/initrd.img OUT/kernel-version
#   build-guest.sh full OUT TINYDIR     -> OUT/disk.qcow2 (ext4 root, cloud-init; boot with TINYDIR's kernel+initrd)
#     (curl is there for the pods agent, which needs wget or curl to reach the metadata service)
# Never installs anything on the host and never bind-mounts the host's /dev. Needs root, apt, dpkg-deb, cpio,
# gzip, mmdebstrap, e2fsprogs, qemu-utils.
set -euo pipefail
KIND=$1; OUT=$2; ARG=$3
MIRROR=${PODS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
W=$(mktemp -d "${OUT}.work.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
case "$KIND" in
tiny)
  KV=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: linux-image-//p' | head -1)
  [ -n "$KV" ] || { echo "cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 2; }
  PKGS="linux-image-$KV busybox-static python3-minimal python3.11-minimal libpython3.11-minimal libc6 libexpat1 zlib1g libssl3
    nginx nginx-common libcrypt1 libpcre2-8-0 e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1"
  ( cd "$W" && chmod 0777 . && apt-get download -q $PKGS libpython3.11-stdlib >/dev/null )
  mkdir "$W/x" "$W/r" "$W/s"
  for d in "$W"/*.deb; do
    case $d in */libpython3.11-stdlib_*) dpkg-deb -x "$d" "$W/s" ;; *) dpkg-deb -x "$d" "$W/x" ;; esac
  done
  X=$W/x R=$W/r M=$W/x/lib/modules/$KV
  mkdir -p $R/bin $R/sbin $R/dev $R/proc $R/sys $R/etc $R/tmp $R/run $R/usr/bin $R/lib/modules/$KV
  cp $X/bin/busybox $R/bin/busybox
  install -m 0755 "$ARG" $R/init
  # python3 (minimal stdlib) with its libraries; the dynamic loader lives in /lib64
  cp -a $X/lib $X/lib64 $R/ 2>/dev/null || true
  rm -rf $R/lib/modules/$KV && mkdir -p $R/lib/modules/$KV
  mkdir -p $R/usr/lib
  cp -a $X/usr/lib/python3.11 $R/usr/lib/
  cp -a $X/usr/lib/x86_64-linux-gnu $R/usr/lib/ && rm -rf $R/usr/lib/x86_64-linux-gnu/gconv
  cp -a $X/usr/bin/python3.11 $R/usr/bin/ && ln -s python3.11 $R/usr/bin/python3
  # of the full standard library only what the example templates import beyond the minimal one: json
  for m in json; do cp -a $W/s/usr/lib/python3.11/$m $R/usr/lib/python3.11/; done
  # nginx (Debian's, with its configuration and mime types; its libraries came with lib/ and usr/lib/ above),
  # the users its configuration names, and the folders its package would create
  mkdir -p $R/usr/sbin $R/var/log/nginx $R/var/lib/nginx $R/var/www/html
  cp -a $X/usr/sbin/nginx $R/usr/sbin/ && cp -a $X/etc/nginx $R/etc/
  printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' >$R/etc/passwd
  printf 'root:x:0:\nwww-data:x:33:\n' >$R/etc/group
  # mkfs.ext4 (e2fsprogs; its libraries came with lib/ and usr/lib/ above): the agent formats blank persistent disks
  cp -a $X/sbin/mke2fs $R/usr/sbin/mkfs.ext4 && cp -a $X/etc/mke2fs.conf $R/etc/ && ln -s /proc/mounts $R/etc/mtab
  # no bash in a busybox guest: `bash` blocks of templates run under busybox's ash (POSIX sh with a few bashisms)
  printf '#!/bin/busybox sh\nexec /bin/busybox ash "$@"\n' >$R/usr/bin/bash && chmod 0755 $R/usr/bin/bash
  [ -f $M/modules.dep ] || $X/bin/busybox depmod -b $X $KV
  for m in button evdev virtio_pci virtio_blk virtio_console virtio_net virtio_scsi ata_piix sr_mod isofs fuse virtiofs; do
    for f in $(grep -E "/$m\.ko:" $M/modules.dep | tr -d ':'); do
      mkdir -p $R/lib/modules/$KV/$(dirname $f); cp $M/$f $R/lib/modules/$KV/$f
    done
  done
  cp $M/modules.builtin $M/modules.order $R/lib/modules/$KV/
  $X/bin/busybox depmod -b $R $KV
  (cd $R && find . | cpio -o -H newc --quiet | gzip -6) > $W/initrd.img
  cp $X/boot/vmlinuz-$KV $W/vmlinuz
  echo "$KV" > $W/kernel-version
  install -m 0644 $W/vmlinuz $W/initrd.img $W/kernel-version "$OUT"/
  ;;
full)
  EXCL=(--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
        --dpkgopt='path-include=/usr/share/locale/locale.alias' --dpkgopt='path-exclude=/usr/share/doc/*'
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*')
  cat > $W/hook.sh <<'HOOK'
#!/bin/sh
R=$1
echo pods-guest > $R/etc/hostname
mkdir -p $R/etc/cloud/cloud.cfg.d
printf 'datasource_list: [ NoCloud, None ]\nlocale: C.UTF-8\nssh_genkeytypes: []\n' > $R/etc/cloud/cloud.cfg.d/90-pods.cfg
mkdir -p $R/etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' > $R/etc/systemd/journald.conf.d/pods.conf
cat > $R/etc/systemd/system/pods-ready.service <<'UNIT'
[Unit]
Description=print the pods boot marker on the serial console
After=multi-user.target cloud-final.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "PODS-READY uptime=$(cut -d" " -f1 /proc/uptime)" > /dev/ttyS0'
[Install]
WantedBy=multi-user.target
UNIT
chroot $R systemctl enable pods-ready.service
chroot $R systemctl mask e2scrub_reap.service
echo '/dev/vda / ext4 defaults 0 1' > $R/etc/fstab
rm -rf $R/var/cache/apt/*.bin $R/var/lib/apt/lists/*
HOOK
  chmod +x $W/hook.sh
  mmdebstrap --quiet --variant=minbase "${EXCL[@]}" \
    --include=systemd-sysv,udev,dbus,cloud-init,ifupdown,isc-dhcp-client,netbase,iproute2,bash,python3,curl \
    --customize-hook="$W/hook.sh \"\$1\"" bookworm $W/rootfs "$MIRROR"
  mkfs.ext4 -q -F -L podsroot -d $W/rootfs $W/root.raw 2G
  qemu-img convert -c -O qcow2 $W/root.raw $W/disk.qcow2
  install -m 0644 $W/disk.qcow2 "$OUT"/disk.qcow2
  ;;
*) echo "unknown kind $KIND" >&2; exit 2 ;;
esac
