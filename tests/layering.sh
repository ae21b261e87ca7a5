#!/usr/bin/env bash
# Lower layers never include higher ones: lib <- hsm <- daemon; appliance and
# provisioning use lib, hsm and the daemon's client protocol only.
set -u
cd "$(dirname "$0")/.."
bad=0
check() {	# dir, forbidden include pattern, rule
	local hits
	hits=$(grep -rnE "#include +\"[./]*($2)/" "$1" --include='*.c' --include='*.h' 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "not ok - $3"
		echo "$hits" | sed 's/^/    /'
		bad=1
	else
		echo "ok - $3"
	fi
}
check lib 'hsm|daemon|appliance|provisioning' "lib/ includes nothing above it"
check hsm 'daemon|appliance|provisioning' "hsm/ includes only lib/"
check daemon 'appliance|provisioning' "daemon/ does not include appliance/ or provisioning/"
check daemon/net 'monitor|ledger' "the net worker does not include the monitor or the ledger"
check provisioning 'appliance' "provisioning/ does not include appliance/"
# Only hsm/ may talk PKCS#11.
hits=$(grep -rlnE '#include +<(libp11|pkcs11)' lib daemon appliance provisioning 2>/dev/null)
if [ -n "$hits" ]; then echo "not ok - only hsm/ includes libp11 or pkcs11 headers"; echo "$hits"; bad=1
else echo "ok - only hsm/ includes libp11 or pkcs11 headers"; fi
exit $bad
