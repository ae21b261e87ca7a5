#!/bin/bash
# rootfs/install-appliance.sh ROOT — apply appliance/image/ to the tree ROOT:
# units, firewall, rsyslog, sysctl, journald/logind/timesyncd settings, fstab, the
# SoftHSM token location, the net worker's user, a locked root account and
# the admin console in place of getty. Called by rootfs/build.sh after
# Sealbox is installed in ROOT. Runs programs inside ROOT with chroot only.
set -euo pipefail

R=${1:?usage: install-appliance.sh ROOT}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMG=$TOP/appliance/image
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

inst() {	# MODE SRC DEST
	install -D -m "$1" "$2" "$R$3"
}

inst 0644 "$IMG/systemd/seald.service" /etc/systemd/system/seald.service
inst 0644 "$IMG/systemd/seald.path" /etc/systemd/system/seald.path
inst 0644 "$IMG/systemd/sealbox-console@.service" /etc/systemd/system/sealbox-console@.service
inst 0644 "$IMG/systemd/sealbox-network.service" /etc/systemd/system/sealbox-network.service
inst 0644 "$IMG/systemd/var-lib-sealbox-usb.mount" /etc/systemd/system/var-lib-sealbox-usb.mount
inst 0755 "$IMG/network-apply" /usr/local/libexec/sealbox/network-apply
inst 0644 "$IMG/systemd/rsyslog-sealbox.conf" /etc/systemd/system/rsyslog.service.d/sealbox.conf
# rsyslog forwards the journal to the sysadmin's syslog servers, and writes
# no file: Debian's own rules and log rotation go.
inst 0644 "$IMG/etc/rsyslog.conf" /etc/rsyslog.conf
rm -rf "$R/etc/rsyslog.d" "$R/etc/logrotate.d"
# The first-boot ceremony's template (a site template on the data disk,
# /etc/sealbox/seald.yaml.firstboot, takes its place when present).
inst 0644 "$IMG/etc/seald.yaml.firstboot" /usr/local/share/sealbox/seald.yaml.firstboot
inst 0755 "$IMG/nftables.conf" /etc/nftables.conf
inst 0644 "$IMG/etc/sysctl-sealbox.conf" /etc/sysctl.d/90-sealbox.conf
inst 0644 "$IMG/etc/coredump-sealbox.conf" /etc/systemd/coredump.conf.d/sealbox.conf
inst 0644 "$IMG/etc/system-sealbox.conf" /etc/systemd/system.conf.d/sealbox.conf
inst 0644 "$IMG/etc/limits-sealbox.conf" /etc/security/limits.d/sealbox.conf
inst 0644 "$IMG/etc/journald-sealbox.conf" /etc/systemd/journald.conf.d/sealbox.conf
inst 0644 "$IMG/etc/logind-sealbox.conf" /etc/systemd/logind.conf.d/sealbox.conf
inst 0644 "$IMG/etc/timesyncd-sealbox.conf" /etc/systemd/timesyncd.conf.d/00-sealbox.conf
inst 0644 "$IMG/etc/20-wired.network" /etc/systemd/network/20-wired.network
inst 0644 "$IMG/etc/fstab" /etc/fstab
inst 0644 "$IMG/etc/softhsm2.conf" /etc/softhsm/softhsm2.conf
inst 0644 "$IMG/etc/acpi-powerbtn" /etc/acpi/events/sealbox-powerbtn
echo sealbox >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsealbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"

# The data disk's mount point, and /etc/sealbox on it (the root is read-only;
# the configuration is per appliance).
install -d -m 0700 "$R/var/lib/sealbox"
rm -rf "$R/etc/sealbox"
ln -s /var/lib/sealbox/etc "$R/etc/sealbox"

# The net worker's own user (net.user in seald.yaml): no home, no shell, owns
# nothing. Not "nobody", which other programs may share.
in_root useradd --system --user-group --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin --comment "Sealbox net worker" sealnet
# No password login for anyone: root's password is locked (the console is
# sealadm's own login, against seald's accounts).
in_root passwd -l root >/dev/null
in_root usermod -s /usr/sbin/nologin root

# The admin console replaces getty on the serial line and on tty1.
in_root systemctl enable seald.service seald.path sealbox-network.service \
	sealbox-console@ttyS0.service \
	sealbox-console@tty1.service nftables.service systemd-networkd.service \
	systemd-timesyncd.service rsyslog.service acpid.service acpid.path >/dev/null 2>&1
# Nothing that would update, back up or scrub a read-only image.
in_root systemctl disable getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service >/dev/null 2>&1
# No getty anywhere: getty-static starts getty@tty2..6 when logind is not
# running (it is not: no D-Bus), and login is not how anyone gets in here.
in_root systemctl mask getty@.service serial-getty@.service autovt@.service \
	console-getty.service getty-static.service container-getty@.service >/dev/null 2>&1
# No way around the menu's ledgered power-off or its login: no debug shell,
# no reboot on Ctrl-Alt-Del at tty1.
in_root systemctl mask debug-shell.service ctrl-alt-del.target >/dev/null 2>&1
in_root systemctl set-default multi-user.target >/dev/null 2>&1
# The firewall file must parse inside the image (its nft, its grammar), and
# so must rsyslog's (its modules, with one forwarding rule as network-apply
# writes it).
in_root nft -c -f /etc/nftables.conf
install -d "$R/run/sealbox-net" "$R/run/rsyslog"
printf '%s\n' 'action(type="omfwd" target="192.0.2.5" port="514" protocol="udp" template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="10000" action.resumeRetryCount="-1" action.resumeInterval="10")' \
	>"$R/run/sealbox-net/rsyslog.conf"
in_root rsyslogd -N1 -f /etc/rsyslog.conf >/dev/null 2>&1 ||
	{ in_root rsyslogd -N1 -f /etc/rsyslog.conf >&2; exit 1; }
rm -rf "${R:?}/run/sealbox-net" "${R:?}/run/rsyslog"
