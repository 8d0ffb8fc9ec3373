# SPDX-License-Identifier: GPL-2.0-only
# Command-line tests of kvmbox's Firecracker-compatible process (kvmbox --api-sock ...),
# sourced by tests/cli/run (its pass/fail/skip, expect_usage_error, $tmp, $kernel and
# $KVMBOX). None needs KVM: the API is driven over its socket before InstanceStart with
# tests/api/fc_client.py, and the start itself fails on the hidden /dev/kvm.

client=tests/api/fc_client.py

# expect_gone NAME PATH: the socket kvmbox made is removed when it exits.
expect_gone() {
	if [ -e "$2" ]; then
		fail "$1" "$2 left behind"
	else
		pass "$1"
	fi
}

# The first line Kata's version check reads: its second word, less the "v", is the version.
first="$("$KVMBOX" --version | head -n1)"
if [[ "$first" =~ ^Firecracker\ v1\.16\.0\ \(kvmbox\ [0-9.]+\)$ ]] &&
	[ "$(echo "$first" | cut -d' ' -f2)" = v1.16.0 ]; then
	pass api/version_line
else
	fail api/version_line "got '$first'"
fi

# A symlink named firecracker: the same version line, and Firecracker's command line
# without a subcommand.
ln -s "$(readlink -f "$KVMBOX")" "$tmp/firecracker"
if [ "$("$tmp/firecracker" --version | head -n1)" = "$first" ]; then
	pass api/firecracker_symlink_version
else
	fail api/firecracker_symlink_version "got '$("$tmp/firecracker" --version 2>&1 | head -n1)'"
fi
KVMBOX_SAVED="$KVMBOX" KVMBOX="$tmp/firecracker"
expect_usage_error api/firecracker_symlink_no_api --no-api
KVMBOX="$KVMBOX_SAVED"

expect_usage_error api/unknown_option --api-sock "$tmp/api.sock" --bogus
expect_usage_error api/no_api_without_config --no-api
# Firecracker's compiled filters fit Firecracker's threads, not kvmbox's: refused, saying
# what to do instead; the socket is not even made.
expect_usage_error api/seccomp_filter_refused --api-sock "$tmp/api.sock" --seccomp-filter "$tmp/f.bpf"
if grep -q "cannot load Firecracker's compiled filters.*drop the option or give --no-seccomp" "$tmp/err" &&
	[ ! -e "$tmp/api.sock" ]; then
	pass api/seccomp_filter_says_why
else
	fail api/seccomp_filter_says_why "got '$(head -c 300 "$tmp/err")'"
fi
KVMBOX_SECCOMP=maybe expect_usage_error api/seccomp_env_bogus --api-sock "$tmp/api.sock"
expect_usage_error api/socket_exists --api-sock "$tmp/not-a-kernel"
if [ -f "$tmp/not-a-kernel" ]; then
	pass api/socket_exists_left_alone
else
	fail api/socket_exists_left_alone "kvmbox removed a file it did not create"
fi

: >"$tmp/placeholder.img"
: >"$tmp/rl.img"
kern="${kernel:-$tmp/not-a-kernel}"
cfg() { printf '%s\n' "$2" >"$tmp/$1.json"; }
cfg bad_json '{"boot-source": {'
cfg unknown_key '{"boot-source": {"kernel_image_path": "'"$kern"'"}, "gpu": {}}'
cfg bad_value '{"boot-source": {"kernel_image_path": "'"$kern"'"},
	"machine-config": {"vcpu_count": 0, "mem_size_mib": 128}}'
cfg no_boot_source '{"machine-config": {"vcpu_count": 1, "mem_size_mib": 128}}'
cfg balloon '{"boot-source": {"kernel_image_path": "'"$kern"'"}, "balloon": {"amount_mib": 1}}'
cfg balloon_too_large '{"boot-source": {"kernel_image_path": "'"$kern"'"},
	"machine-config": {"vcpu_count": 1, "mem_size_mib": 128},
	"balloon": {"amount_mib": 129, "deflate_on_oom": false}}'
cfg bad_bucket '{"boot-source": {"kernel_image_path": "'"$kern"'"}, "drives": [{"drive_id": "d",
	"path_on_host": "'"$tmp/placeholder.img"'", "is_root_device": false,
	"rate_limiter": {"ops": {"refill_time": 10}}}]}'
for c in bad_json unknown_key bad_value no_boot_source balloon balloon_too_large bad_bucket; do
	expect_usage_error "api/config_file_$c" --no-api --config-file "$tmp/$c.json"
done
expect_usage_error api/config_file_missing --no-api --config-file "$tmp/no-such.json"
expect_usage_error api/config_file_with_socket --api-sock "$tmp/cf.sock" \
	--config-file "$tmp/bad_value.json"
expect_gone api/config_file_socket_removed "$tmp/cf.sock"

# Kata's shape: eight placeholder drives (a file each), nulls for what is not there; then the start fails
# only on the hidden /dev/kvm (exit 1, one line), and the socket is gone.
if [ -n "$kernel" ]; then
	drives=""
	for i in 0 1 2 3 4 5 6 7; do
		: >"$tmp/drive_$i.img"
		# One with token buckets: the config file takes them as PUT does.
		rl='{}'
		[ $i = 0 ] && rl='{"bandwidth": {"size": 4096, "refill_time": 10, "one_time_burst": 1},
			"ops": {"size": 5, "refill_time": 1000}}'
		drives="$drives${drives:+,}{\"drive_id\": \"drive_$i\", \"path_on_host\": \"$tmp/drive_$i.img\",
			\"is_root_device\": false, \"is_read_only\": false, \"rate_limiter\": $rl}"
	done
	cfg kata '{"boot-source": {"kernel_image_path": "'"$kernel"'", "boot_args": "console=ttyS0",
		"initrd_path": null}, "drives": ['"$drives"'], "machine-config": {"vcpu_count": 2,
		"mem_size_mib": 256, "smt": false}, "network-interfaces": [], "vsock": null,
		"logger": null, "metrics": null, "balloon": null, "mmds-config": null, "entropy": {}}'
	expect_no_kvm api/config_file_kata_shape --api-sock "$tmp/kata.sock" \
		--config-file "$tmp/kata.json"
	expect_gone api/config_file_kata_socket_removed "$tmp/kata.sock"
else
	skip api/config_file_kata_shape "no kernel image at hand (tools/lab/fetch-kernel failed)"
fi

# expect_reply NAME OUTPUT-LINE PATTERN: one line of fc_client.py's output matches.
expect_reply() {
	if [[ "$2" =~ $3 ]]; then
		pass "$1"
	else
		fail "$1" "got '$2', expected /$3/"
	fi
}

# A whole pre-boot session over one keep-alive connection, the way the Go SDK talks.
sock="$tmp/api.sock"
KVMBOX_DEV_KVM="$tmp/no-kvm" "$KVMBOX" --api-sock "$sock" --id cli-test </dev/null \
	>"$tmp/api.out" 2>"$tmp/api.err" &
pid=$!
if ! python3 "$client" "$sock" --wait 20; then
	fail api/socket_answers "no answer on $sock within 20 s: $(head -c 300 "$tmp/api.err")"
	kill "$pid" 2>/dev/null || true
else
	pass api/socket_answers
	mapfile -t r < <(python3 "$client" "$sock" --keep \
		GET / \
		PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": true}' \
		PUT /machine-config '{"vcpu_count": 2}' \
		PUT /boot-source '{"kernel_image_path": "'"$kern"'", "boot_args": "console=ttyS0"}' \
		PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "'"$tmp/placeholder.img"'",
			"is_root_device": true, "is_read_only": false}' \
		PUT /drives/rootfs '{"drive_id": "other", "path_on_host": "/x", "is_root_device": false}' \
		PUT /network-interfaces/1 '{"iface_id": "1", "host_dev_name": "tap0"}' \
		PUT /actions '{"action_type": "FlushMetrics"}' \
		PUT /mmds '{}' \
		GET /vm/config \
		PUT /actions '{"action_type": "InstanceStart"}' \
		GET / \
		PUT /drives/rl '{"drive_id": "rl", "path_on_host": "'"$tmp/rl.img"'", "is_root_device": false,
			"rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 100}, "ops": null}}' \
		PUT /drives/rl '{"drive_id": "rl", "path_on_host": "'"$tmp/rl.img"'", "is_root_device": false,
			"rate_limiter": {"bandwidth": {"size": 1}}}' \
		PUT /drives/rl '{"drive_id": "rl", "path_on_host": "'"$tmp/rl.img"'", "is_root_device": false,
			"rate_limiter": {"ops": {"size": 1, "refill_time": 1, "foo": 2}}}' \
		PUT /drives/rl '{"drive_id": "rl", "path_on_host": "'"$tmp/rl.img"'", "is_root_device": false,
			"rate_limiter": {"ops": {"size": -1, "refill_time": 1}}}' \
		PUT /drives/rl '{"drive_id": "rl", "path_on_host": "'"$tmp/rl.img"'", "is_root_device": false,
			"rate_limiter": {"iops": {}}}' \
		PUT /network-interfaces/2 '{"iface_id": "2", "host_dev_name": "tap1",
			"tx_rate_limiter": {"ops": {"size": 100, "refill_time": 1000}}}' \
		GET /vm/config)
	expect_reply api/get_root "${r[0]:-}" '^200 .*"id":"cli-test".*"state":"Not started"'
	expect_reply api/put_machine_config "${r[1]:-}" '^204 $'
	expect_reply api/missing_field "${r[2]:-}" '^400 .*missing field `mem_size_mib`'
	expect_reply api/put_boot_source "${r[3]:-}" '^204 $'
	expect_reply api/put_placeholder_drive "${r[4]:-}" '^204 $'
	expect_reply api/id_mismatch "${r[5]:-}" '^400 .*does not match'
	expect_reply api/put_network_interface "${r[6]:-}" '^204 $'
	expect_reply api/flush_metrics_pre_boot "${r[7]:-}" '^400 .*before starting the microVM'
	expect_reply api/mmds_not_supported "${r[8]:-}" '^400 .*MMDS.*not supported'
	expect_reply api/get_vm_config "${r[9]:-}" '^200 .*"vcpu_count":2.*"host_dev_name":"tap0"'
	expect_reply api/instance_start_fails_cleanly "${r[10]:-}" '^400 .*Failed to start the microVM'
	expect_reply api/usable_after_failed_start "${r[11]:-}" '^200 .*"state":"Not started"'
	# Rate limiters: Firecracker's TokenBucket, every mistake a 400 naming the field, a
	# refused PUT leaving the drive as it was.
	expect_reply api/rate_limiter_put "${r[12]:-}" '^204 $'
	expect_reply api/rate_limiter_missing_refill "${r[13]:-}" \
		'^400 .*rate_limiter.bandwidth: missing field `refill_time`'
	expect_reply api/rate_limiter_unknown_field "${r[14]:-}" \
		'^400 .*unknown field `foo` in rate_limiter.ops'
	expect_reply api/rate_limiter_negative "${r[15]:-}" \
		'^400 .*rate_limiter.ops.size: expected an unsigned integer'
	expect_reply api/rate_limiter_unknown_bucket "${r[16]:-}" '^400 .*unknown field `iops` in rate_limiter'
	expect_reply api/rate_limiter_nic "${r[17]:-}" '^204 $'
	expect_reply api/rate_limiter_get_vm_config "${r[18]:-}" \
		'"drive_id":"rl".*"rate_limiter":\{"bandwidth":\{"size":1048576,"one_time_burst":0,"refill_time":100\},"ops":null\}'
	expect_reply api/rate_limiter_nic_get_vm_config "${r[18]:-}" \
		'"iface_id":"2".*"rx_rate_limiter":null,"tx_rate_limiter":\{"bandwidth":null,"ops":\{"size":100,"one_time_burst":0,"refill_time":1000\}\}'
	# Malformed HTTP: a 400 with a fault_message, then the connection is closed.
	printf 'PUT /machine-config HTTP/1.1\r\nContent-Length: x\r\n\r\n' >"$tmp/raw"
	expect_reply api/malformed_http "$(python3 "$client" "$sock" --raw "$tmp/raw" | tr -d '\r' |
		tr '\n' ' ')" '^HTTP/1.1 400 .*Connection: close.*"fault_message"'
	printf 'PUT /machine-config HTTP/1.1\r\nContent-Length: 51201\r\n\r\n' >"$tmp/raw"
	expect_reply api/body_limit "$(python3 "$client" "$sock" --raw "$tmp/raw" | tr -d '\r' |
		tr '\n' ' ')" '^HTTP/1.1 400 .*larger than the limit of 51200'
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	if [ "$rc" != 143 ]; then
		fail api/sigterm_ends_process "exit status $rc, expected 143: $(head -c 300 "$tmp/api.err")"
	elif [ -e "$sock" ]; then
		fail api/sigterm_ends_process "$sock left behind"
	else
		pass api/sigterm_ends_process
	fi
fi
