# SPDX-License-Identifier: GPL-2.0-only
# UEFI boot, the guest half of tests/lab/t-arm64.sh (kvmbox.test=efi, with
# kvmbox.modules=virtio_pci,virtio_blk,efivarfs): Linux, loaded by the firmware from the
# ESP on the first virtio-blk disk, reads that same disk (the vda test), and keeps a UEFI
# variable through efivarfs. The first boot with a fresh variable store finds no
# variable and sets it (KVMBOX-EFIVAR: set); a later boot with the same --flash file
# finds it (KVMBOX-EFIVAR: found VALUE): the firmware wrote it to the flash.

EFIVAR_DIR=/sys/firmware/efi/efivars
# A vendor GUID of its own: Linux refuses unknown names under the global one.
EFIVAR="$EFIVAR_DIR/KvmboxTest-6b766d62-6f78-4e76-8d62-6f786b766d62"

run_test vda || return 1
[ -d /sys/firmware/efi ] || { echo "KVMBOX-ERROR: not booted through UEFI"; return 1; }
mount -t efivarfs efivarfs "$EFIVAR_DIR" || { echo "KVMBOX-ERROR: no efivarfs"; return 1; }
if [ -f "$EFIVAR" ]; then
	# Four bytes of attributes, then the value.
	echo "KVMBOX-EFIVAR: found $(tail -c +5 "$EFIVAR")"
else
	# Non-volatile, boot and runtime access (7, as a 32-bit little-endian word), then
	# the value: efivarfs takes it in a single write. printf cannot print a NUL byte.
	{
		printf '\007'
		dd if=/dev/zero bs=3 count=1 2>/dev/null
		printf 'kvmbox-persists'
	} >/tmp/efivar
	cat /tmp/efivar >"$EFIVAR" || {
		echo "KVMBOX-ERROR: cannot write $EFIVAR"
		dmesg | grep -i efi | tail -n 5 | sed 's/^/KVMBOX-EFI-LOG: /'
		return 1
	}
	echo "KVMBOX-EFIVAR: set"
fi
umount "$EFIVAR_DIR"
