# SPDX-License-Identifier: GPL-2.0-only
"""L1's view of one L2 boot, from L1's ftrace (the kvm and sched events).

tools/bench/boot --trace records, for every boot, the kvm_entry, kvm_exit,
kvm_msr, kvm_page_fault and kvm_mmu_spte_requested events of L1's KVM and L1's
sched_switch events, from just before the VMM starts to the guest's /init line.
This module turns that trace into where vCPU 0's time went from the guest's
clock start to /init, or in each phase of the guest kernel's boot (PHASES in
boot, from the guest's own log), and what caused the exits:

  guest    time in guest mode (kvm_entry to the next kvm_exit): the guest's
           own instructions, as fast as L0's TCG runs them
  in L1    time from an exit to the next entry, vCPU thread on a CPU: L1's KVM
           handling the exit, and the VMM for exits to user space
  blocked  time the vCPU thread slept in L1 (switched out not runnable: a
           halted vCPU waiting for an interrupt, or the VMM waiting)
  preempt  time it was runnable but switched out: another L1 task had its CPU
           (named with the time each took, from sched_switch)
  exits    exits of vCPU 0 in the phase, by reason (SVM names: npf, io, msr,
           hlt, interrupt (an L1 interrupt arrived), vintr, ...), npf split by
           what the guest address is, io by port, msr by number

The guest's clock is put on L1's trace clock at vCPU 0's last write of
MSR_KVM_SYSTEM_TIME_NEW before /init: the kernel's, where its sched_clock
(kvm-clock) starts (firmware such as SeaBIOS may write it earlier).
"""

import os
import re
import subprocess

TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
EVENTS = ("kvm/kvm_entry", "kvm/kvm_exit", "kvm/kvm_msr", "sched/sched_switch")
# Where a nested page fault's time goes: kvm_page_fault when KVM starts on it,
# kvm_mmu_spte_requested once it has the host page (get_user_pages), then the entry.
FAULT_EVENTS = ("kvm/kvm_page_fault", "kvmmmu/kvm_mmu_spte_requested")
BUFFER_KB = 32768  # per CPU: a boot to /init is about 10^5 events
MSR_KVM_SYSTEM_TIME_NEW = 0x4B564D01
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$")
EXIT = re.compile(r"vcpu (\d+) reason (\S+).*? info1 0x([0-9a-f]+) info2 0x([0-9a-f]+)")
MSR = re.compile(r"msr_(read|write) ([0-9a-f]+) = ")
SWITCH = re.compile(r"prev_pid=(\d+) prev_prio=\S+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+)")
STATES = ("guest", "in L1", "blocked", "preempt")


def _root():
    for d in TRACEFS:
        if os.path.isfile(os.path.join(d, "tracing_on")):
            return d
    subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS[0]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return TRACEFS[0] if os.path.isfile(os.path.join(TRACEFS[0], "tracing_on")) else None


def _write(root, name, value):
    with open(os.path.join(root, name), "w") as f:
        f.write(value)


def start():
    """Clear L1's trace buffer and record EVENTS. Returns the tracefs root, or None."""
    root = _root()
    if root is None:
        return None
    try:
        _write(root, "tracing_on", "0")
        for e in EVENTS:
            _write(root, "events/%s/enable" % e, "1")
        for e in FAULT_EVENTS:  # optional: older kernels name them otherwise
            if os.path.isfile(os.path.join(root, "events", e, "enable")):
                _write(root, "events/%s/enable" % e, "1")
        _write(root, "buffer_size_kb", str(BUFFER_KB))
        _write(root, "options/overwrite", "0")  # a full buffer drops the newest, and says so
        _write(root, "trace", "")
        _write(root, "tracing_on", "1")
    except OSError:
        return None
    return root


def stop(root):
    if root:
        _write(root, "tracing_on", "0")


def save(root, path):
    """Copy the trace to PATH, switch the events off, and return the events lost."""
    lost = 0
    with open(os.path.join(root, "trace"), "rb") as src, open(path, "wb") as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            dst.write(chunk)
    for cpu in os.listdir(os.path.join(root, "per_cpu")):
        with open(os.path.join(root, "per_cpu", cpu, "stats")) as f:
            for line in f:
                if line.startswith(("overrun:", "dropped events:")):
                    lost += int(line.split(":")[1])
    for e in EVENTS + FAULT_EVENTS:
        if os.path.isfile(os.path.join(root, "events", e, "enable")):
            _write(root, "events/%s/enable" % e, "0")
    _write(root, "trace", "")
    return lost


def npf_kind(gpa):
    if 0xFEE00000 <= gpa < 0xFEE01000:
        return "lapic"
    if 0xFEC00000 <= gpa < 0xFED00000:  # QEMU microvm has a second I/O APIC at 0xfec10000
        return "ioapic"
    if gpa >= 0xC0000000:
        return "mmio"
    return "ram"


class Timeline:
    """vCPU 0's intervals [(start, end, state, the L1 task that preempted it)] and its
    exits [[time, reason, time in L1, detail, {fault event: time}]]; every vCPU's
    exits by reason; the guest clock's start on the trace clock, and the trace's end."""

    def __init__(self):
        self.spans = []
        self.exits = []
        self.all_exits = {}
        self.clock0 = None
        self.end = None


def parse(path):
    """Read a saved trace into a Timeline of vCPU 0 (plus every vCPU's exit reasons)."""
    t = Timeline()
    vcpu0 = None
    state, since, who = None, None, None
    pending_msr = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pid, ts, event, rest = int(m.group(2)), float(m.group(4)), m.group(5), m.group(6)
            t.end = ts
            if event == "kvm_exit":
                e = EXIT.search(rest)
                if not e:
                    continue
                reason = e.group(2)
                detail = ""
                if reason == "npf":
                    reason = "npf:" + npf_kind(int(e.group(4), 16))
                    detail = "gpa %#x" % int(e.group(4), 16)
                elif reason == "io":
                    reason = "io:%#x" % (int(e.group(3), 16) >> 16)
                pending_msr[pid] = reason == "msr"
                t.all_exits[reason] = t.all_exits.get(reason, 0) + 1
                if e.group(1) == "0":
                    vcpu0 = pid
                    state, since, who = _switch(t, (state, since, who), ts, "in L1")
                    t.exits.append([ts, reason, 0.0, detail, {}])
            elif event in ("kvm_page_fault", "kvm_mmu_spte_requested") and pid == vcpu0 and t.exits:
                t.exits[-1][4].setdefault(event, ts)
            elif event == "kvm_entry" and pid == vcpu0:
                state, since, who = _switch(t, (state, since, who), ts, "guest")
            elif event == "kvm_msr":
                mm = MSR.match(rest)
                if not mm:
                    continue
                msr = int(mm.group(2), 16)
                if pending_msr.pop(pid, False):
                    name = "msr:%s:%#x" % (mm.group(1), msr)
                    t.all_exits["msr"] -= 1
                    t.all_exits[name] = t.all_exits.get(name, 0) + 1
                    if pid == vcpu0 and t.exits:
                        t.exits[-1][1] = name
                # The last write: under QEMU -M pc, SeaBIOS writes it before the kernel does.
                if pid == vcpu0 and mm.group(1) == "write" and msr == MSR_KVM_SYSTEM_TIME_NEW:
                    t.clock0 = ts
            elif event == "sched_switch" and vcpu0 is not None:
                s = SWITCH.search(rest)
                if s and int(s.group(1)) == vcpu0:
                    runnable = s.group(2).startswith("R")
                    state, since, who = _switch(t, (state, since, who), ts, "preempt" if runnable else "blocked",
                                                task_name(s.group(3)) if runnable else None)
                elif s and int(s.group(4)) == vcpu0 and state in ("preempt", "blocked"):
                    state, since, who = _switch(t, (state, since, who), ts, "in L1")
    if state:
        t.spans.append((since, t.end, state, who))
    t.all_exits = {k: v for k, v in t.all_exits.items() if v}
    return t


def task_name(comm):
    """An L1 task's name without its instance: kworker/1:2H -> kworker."""
    return re.sub(r"/[0-9:uH+-]+$", "", comm.strip())


def _switch(t, current, ts, new, who=None):
    """End vCPU 0's CURRENT (state, since, who) interval at TS; start one in state NEW."""
    state, since, old_who = current
    if state:
        t.spans.append((since, ts, state, old_who))
        if state == "in L1" and t.exits:
            t.exits[-1][2] += ts - since  # the exit being handled
    return new, ts, who


def window(t, a, b, by=None):
    """{state: seconds} and {reason: count} of vCPU 0 in trace time [a, b); BY, if
    given, gets the preempted time by the task that took the CPU."""
    times = dict.fromkeys(STATES, 0.0)
    for s, e, st, who in t.spans:
        lo, hi = max(s, a), min(e, b)
        if hi > lo:
            times[st] += hi - lo
            if by is not None and who:
                by[who] = by.get(who, 0.0) + hi - lo
    reasons = {}
    for ts, r, *_ in t.exits:
        if a <= ts < b:
            reasons[r] = reasons.get(r, 0) + 1
    return times, reasons


def top(counts, n):
    return ", ".join("%s %d" % kv for kv in sorted(counts.items(), key=lambda kv: -kv[1])[:n])


# What caused the exits, coarsely: (class, test on the reason), first match wins.
CLASSES = (
    ("L1 irq", lambda r: r == "interrupt"),
    ("timer", lambda r: r == "msr:write:0x6e0"),
    ("IPI", lambda r: r == "msr:write:0x830"),
    ("hlt", lambda r: r == "hlt"),
    ("cpuid", lambda r: r == "cpuid"),
    ("irq window", lambda r: r == "vintr"),
    ("RAM fault", lambda r: r == "npf:ram"),
    ("I/O APIC", lambda r: r == "npf:ioapic"),
    ("port I/O", lambda r: r.startswith("io:")),
    ("other MMIO", lambda r: r.startswith("npf:")),
    ("other", lambda r: True),
)
SLOW = 0.05  # an exit that kept vCPU 0 in L1 this long (s) is "slow"


def classify(exits):
    out = dict.fromkeys((c for c, _ in CLASSES), 0)
    for reason, n in exits.items():
        out[next(c for c, test in CLASSES if test(reason))] += n
    return out


def fault_split(exit_ts, marks):
    """', of which: ...' for a nested page fault: until KVM took it up, getting the host
    page (get_user_pages), and the rest (mapping it, waits, the entry)."""
    pf, spte = marks.get("kvm_page_fault"), marks.get("kvm_mmu_spte_requested")
    if pf is None or spte is None:
        return ""
    return " (to the fault handler %.3f s, getting the host page %.3f s)" % (pf - exit_ts, spte - pf)


def summary(t):
    """vCPU 0 from the guest clock's start to the end of the trace (/init): {state: s},
    'by' (preempted time by task), 'slow' (its time in exits over SLOW s), 'exits'
    (every vCPU's, from the VM's start) and 'classes' (those by CLASSES); or None."""
    if t.clock0 is None:
        return None
    by = {}
    times, _ = window(t, t.clock0, t.end, by)
    slow = [e for e in t.exits if e[0] >= t.clock0 and e[2] >= SLOW]
    gup = sum(e[4]["kvm_mmu_spte_requested"] - e[4]["kvm_page_fault"] for e in slow
              if "kvm_page_fault" in e[4] and "kvm_mmu_spte_requested" in e[4])
    return dict(times, by=by, slow=sum(e[2] for e in slow), n_slow=len(slow), slow_gup=gup,
                exits=sum(t.all_exits.values()), classes=classify(t.all_exits))


def fmt_summary(s):
    if s is None:
        return "no kvm-clock MSR write by vCPU 0 in L1's trace"
    return ("vCPU 0 from kvm-clock to /init: %s (%d exits over %.2f s took %.3f s of it, %.3f s "
            "of that getting host pages); preempted by %s" % (
                ", ".join("%s %.3f s" % (k, s[k]) for k in STATES), s["n_slow"], SLOW, s["slow"],
                s["slow_gup"], top_s(s["by"], 3) or "none"))


def top_s(seconds, n):
    return ", ".join("%s %.3f" % kv for kv in sorted(seconds.items(), key=lambda kv: -kv[1])[:n])


HEAD = "  %-10s %7s %7s %7s %7s %7s %6s  %s" % ("phase", "length", "guest", "in L1", "blocked", "preempt",
                                               "exits", "vCPU 0's exits by reason (top 4)")


def report(name, t, phases, lines, lost):
    """Print vCPU 0's time by phase (PHASES: [(phase, guest clock at its end)]), in the
    longest silences of the guest's log (LINES: [(guest clock, text)]), and every
    vCPU's exits to /init by reason."""
    print()
    print("%s, L1's trace (vCPU 0; guest clock put on L1's at its kernel's kvm-clock MSR write%s):"
          % (name, "; %d events LOST" % lost if lost else ""))
    if t.clock0 is None:
        print("  no write of MSR_KVM_SYSTEM_TIME_NEW by vCPU 0 in the trace: phases not placed")
    else:
        print(HEAD)
        _row(t, "before", t.spans[0][0] if t.spans else t.clock0, t.clock0)
        prev = 0.0
        for phase, at in phases:
            _row(t, phase, t.clock0 + prev, t.clock0 + at)
            prev = at
        print("  The 6 longest silences of the guest's log before /init (guest clock, s):")
        print(HEAD.replace("phase     ", "from      "))
        gaps = sorted(zip(lines, lines[1:]), key=lambda p: p[0][0] - p[1][0])[:6]
        for (a, text_a), (b, text_b) in sorted(gaps):
            _row(t, "%.3f" % a, t.clock0 + a, t.clock0 + b)
            print("  %10s after: %s" % ("", text_a[:90]))
            print("  %10s until: %s" % ("", text_b[:90]))
        print("  vCPU 0's 6 longest exits (its time in L1 on a CPU, from the exit to the next entry):")
        for ts, r, l1, detail, marks in sorted(t.exits, key=lambda e: -e[2])[:6]:
            print("    at guest clock %8.3f: %.3f s, %s %s%s" % (ts - t.clock0, l1, r, detail, fault_split(ts, marks)))
    total = sum(t.all_exits.values())
    print("  every vCPU's exits from the VM's start to /init: %d; by reason: %s" % (total, top(t.all_exits, 12)))
    s = summary(t)
    if s:
        print("  " + fmt_summary(s))


def _row(t, label, a, b):
    times, reasons = window(t, a, b)
    print("  %-10s %7.3f %7.3f %7.3f %7.3f %7.3f %6d  %s" % (
        label, b - a, times["guest"], times["in L1"], times["blocked"], times["preempt"],
        sum(reasons.values()), top(reasons, 4)))
