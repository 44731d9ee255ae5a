#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of ci/judge: made-up guest records, one rule each.

Each case writes what tests/guest/run.sh would have left behind (plan,
kmsg.log with markers, t/N.rec, t/N.out, final), runs ci/judge on it and
checks the verdict of the tests concerned. With KERNEL_SRC set, the KTAP is
also fed to the kernel's tools/testing/kunit/kunit.py parse, whose counts
must equal the judge's leaf counts. Prints KTAP and "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JUDGE = os.path.join(TOP, 'ci', 'judge')
KSRC = os.environ.get('KERNEL_SRC')

EXPECT = """\
scen-A | - | main | - | - | -
scen-B | 5 | main | ^the bug$ | ^WARNING: CPU: [0-9]+ PID: [0-9]+ at fs/dax\\.c:[0-9]+ dax_disassociate_entry | -
scen-own | 21 | own | ^the own bug$ | ^BUG: unable to handle page fault; ^Oops: [0-9]+ \\[#1\\] .*\\nRIP: 0010:the_pinned_release\\+ | -
scen-W | 5 | main | ^no warning$ | - | ^WARNING: CPU: [0-9]+ PID: [0-9]+ at fs/dax\\.c:[0-9]+ dax_disassociate_entry
"""
KUNIT = "suite_a 1 1=2\n"
WARN = ['------------[ cut here ]------------',
        'WARNING: CPU: 0 PID: 1 at fs/dax.c:390 dax_disassociate_entry+0x1/0x2',
        'Modules linked in:', 'Call Trace:', ' <TASK>', ' </TASK>',
        '---[ end trace 0000000000000000 ]---']
OTHER_WARN = [w.replace('fs/dax.c:390 dax_disassociate_entry', 'mm/gup.c:1 gup_thing') for w in WARN]
KUNIT_LOG = ['KTAP version 1', '1..2', '    KTAP version 1', '    # Subtest: suite_a', '    1..2',
             '    ok 1 case_one', '    ok 2 case_two', '# suite_a: pass:2 fail:0 skip:0 total:2',
             'ok 1 suite_a', '    KTAP version 1', '    # Subtest: suite_x', '    1..1',
             '    ok 1 x_case', 'ok 2 suite_x']


class Boot:
    """One boot's records, built test by test."""

    def __init__(self, part='main', boot_log=None):
        self.part, self.msgs, self.tests, self.warn, self.oops = part, [], [], 0, 0
        self.msgs += KUNIT_LOG if boot_log is None else boot_log
        self.msgs.append(f'daxgup-harness: suite begin {part}')
        self.final = {'debug_locks': '1', 'reader_alive': '1', 'mark_end': '1'}
        self.skip_seq = None

    def test(self, name, rc=0, out=(), inside=(), warn=0, oops=0, timeout=0, after=(), marks=True):
        n = len(self.tests) + 1
        rec = {'name': name, 'rc': rc, 'timeout': timeout, 'start': 0, 'end': 1,
               'warn_before': self.warn, 'oops_before': self.oops}
        if marks:
            self.msgs.append(f'daxgup-harness: begin {n} {name}')
        self.msgs += list(inside)
        self.warn += warn
        self.oops += oops
        if marks:
            self.msgs.append(f'daxgup-harness: end {n} {name}')
        rec.update(warn_after=self.warn, oops_after=self.oops, mark_begin=int(marks), mark_end=int(marks))
        self.tests.append((n, name, rec, list(out)))
        self.msgs += list(after)
        return self

    def write(self, d, plan):
        if getattr(self, 'dead', False):   # the guest left nothing behind
            os.makedirs(d)
            for n, name, _, _ in self.tests:
                plan.write(f'{self.part} {n} {name}\n')
            return
        os.makedirs(os.path.join(d, 't'))
        with open(os.path.join(d, 'kmsg.log'), 'w') as f:
            seq = 0
            for m in self.msgs + ['daxgup-harness: suite end']:
                if self.skip_seq is not None and seq == self.skip_seq:
                    seq += 3
                m, prio = m if isinstance(m, tuple) else (m, 6)
                f.write(f'{prio},{seq},{seq * 10},-;{m}\n')
                seq += 1
        with open(os.path.join(d, 'plan'), 'w') as f:
            for n, name, _, _ in self.tests:
                f.write(f'{n} {name}\n')
                plan.write(f'{self.part} {n} {name}\n')
        for n, name, rec, out in self.tests:
            if not rec:
                continue
            with open(os.path.join(d, 't', f'{n}.rec'), 'w') as f:
                f.writelines(f'{k}={v}\n' for k, v in rec.items())
            with open(os.path.join(d, 't', f'{n}.out'), 'w') as f:
                f.writelines(l + '\n' for l in out)
        fin = dict(self.final, warn_count=self.warn, oops_count=self.oops)
        with open(os.path.join(d, 'final'), 'w') as f:
            f.writelines(f'{k}={v}\n' for k, v in fin.items())


def judge(level, *boots, kunit=KUNIT, partial=True):
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (('expect', EXPECT), ('kunit', kunit)):
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(text)
        dirs = []
        with open(os.path.join(tmp, 'plan'), 'w') as plan:
            for i, b in enumerate(boots):
                d = os.path.join(tmp, f'b{i}')
                b.write(d, plan)
                dirs.append(d)
        p = subprocess.run([sys.executable, JUDGE, '--level', str(level), '--plan', os.path.join(tmp, 'plan'),
                            '--expect', os.path.join(tmp, 'expect'), '--kunit', os.path.join(tmp, 'kunit')]
                           + (['--partial'] if partial else []) + dirs,
                           capture_output=True, text=True)
        kp = None
        if KSRC:
            with open(os.path.join(tmp, 'ktap'), 'w') as f:
                f.write(p.stdout)
            kp = subprocess.run([sys.executable, 'tools/testing/kunit/kunit.py', 'parse', os.path.join(tmp, 'ktap')],
                                cwd=KSRC, capture_output=True, text=True, timeout=60).stdout
    res = {}
    for line in p.stdout.splitlines():
        m = re.match(r'^(ok|not ok) \d+ (\S+)(?: # (.*))?$', line)
        if m:
            res[m[2]] = (m[1], m[3] or '')
    return p, res, kp


N = 0
FAILED = 0


def case(desc, cond, detail=''):
    global N, FAILED
    N += 1
    if cond:
        print(f'ok {N} {desc}')
    else:
        FAILED += 1
        print(f'not ok {N} {desc}')
        for line in str(detail).splitlines()[-40:]:
            print(f'# {line}')


def is_(res, name, status, directive=''):
    got = res.get(name)
    return got is not None and got[0] == status and re.search(directive, got[1]) is not None


def clean():
    return Boot().test('scen-A').test('scen-B', rc=3, out=['# bug: the bug'], inside=WARN, warn=1)


# 1. A clean run, the base (scen-B lacks its fix: XFAIL on its declared WARNING).
p, r, kp = judge('base', clean())
case('clean run: exit 0', p.returncode == 0, p.stdout)
case('XFAIL on exit 3, declared evidence and declared WARNING', is_(r, 'scen-B', 'ok', '^XFAIL fixed by patch 5: the bug'), p.stdout)
case('plan comes first', p.stdout.splitlines()[:2] == ['KTAP version 1', f'1..{len(r)}'], p.stdout)
if kp is not None:
    leaf = re.search(r'leaf counts .*: passed (\d+), failed (\d+), skipped (\d+)', p.stdout)
    ran = re.search(r'Ran (\d+) tests: passed: (\d+)', kp)
    case('kunit.py parse counts what the judge counts', leaf and ran and ran[2] == leaf[1] and 'failed' not in kp.split('Testing complete')[-1], kp)
# 2. The fix is there (level 5): the same exit 3 is a failure.
p, r, _ = judge(5, clean())
case('exit 3 on a kernel with the fix fails', is_(r, 'scen-B', 'not ok', 'bug observed on a kernel that has its fix') or is_(r, 'scen-B', 'not ok', 'outside the declared'), p.stdout)
# 3. A pass before the fix is a failure.
p, r, _ = judge('base', Boot().test('scen-A').test('scen-B'))
case('a pass before the fix is a failure (unexpected pass)', is_(r, 'scen-B', 'not ok', 'unexpected pass'), p.stdout)
# 4-7. Before the fix, only the bug itself is XFAIL.
for desc, kw, want in [
        ('a crash before the fix is a failure', dict(rc=139, out=['# bug: the bug']), 'crashed: exit status 139'),
        ('a timeout before the fix is a failure', dict(rc=-1, timeout=1, out=['# bug: the bug']), 'TIMEOUT'),
        ('a setup failure before the fix is a failure', dict(rc=2, out=['# setup: no pmem']), 'setup failed: no pmem'),
        ('exit 1 before the fix is a failure', dict(rc=1, out=['# FAIL: something else']), 'not the bug'),
        ('undeclared evidence is a failure', dict(rc=3, out=['# bug: another thing']), 'evidence not declared'),
        ('an undeclared kernel report is a failure', dict(rc=3, out=['# bug: the bug'], inside=OTHER_WARN, warn=1), 'outside the declared signature'),
        ('a WARNING counted but not in the log is a failure', dict(rc=3, out=['# bug: the bug'], warn=1), 'warn_count rose by 1'),
        ('a lost marker is a failure', dict(rc=3, out=['# bug: the bug'], marks=False), 'marker never reached'),
]:
    p, r, _ = judge('base', Boot().test('scen-A').test('scen-B', **kw))
    case(desc, is_(r, 'scen-B', 'not ok', want) and p.returncode != 0, p.stdout)
# 7b. "with fix": a report that a kernel with the fix must show, and only that one.
p, r, _ = judge(5, Boot().test('scen-A').test('scen-W', inside=WARN, warn=1))
case('a required report on a kernel with the fix passes', is_(r, 'scen-W', 'ok', '^$'), p.stdout)
p, r, _ = judge(5, Boot().test('scen-A').test('scen-W'))
case('a required report that does not appear fails', is_(r, 'scen-W', 'not ok', 'must provoke did not appear'), p.stdout)
p, r, _ = judge(5, Boot().test('scen-A').test('scen-W', inside=WARN + OTHER_WARN, warn=2))
case('another report next to the required one fails', is_(r, 'scen-W', 'not ok', 'outside the declared'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A').test('scen-W', rc=3, out=['# bug: no warning']))
case('before the fix the missing report is the bug (XFAIL)', is_(r, 'scen-W', 'ok', '^XFAIL fixed by patch 5: no warning'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A').test('scen-W', rc=3, out=['# bug: no warning'], inside=WARN, warn=1))
case('before the fix the required report is not allowed', is_(r, 'scen-W', 'not ok', 'outside the declared'), p.stdout)
# 8. Reports outside any window, and the log's own health.
for desc, boot, name, want in [
        ('a WARNING in a test window fails that test', Boot().test('scen-A', inside=OTHER_WARN, warn=1), 'scen-A', 'outside the declared'),
        ('a WARNING between two tests fails the run', Boot().test('scen-A', after=OTHER_WARN).test('scen-A2'), 'kmsg-between-tests', 'before scen-A2: WARNING'),
        ('a WARNING after the last test fails the run', Boot().test('scen-A', after=OTHER_WARN), 'kmsg-after-last-test', 'WARNING'),
        ('a bare Call Trace fails', Boot().test('scen-A', inside=['Call Trace:', ' foo+0x1']), 'scen-A', 'Call Trace'),
        ('a lockdep report fails', Boot().test('scen-A', inside=['INFO: trying to register non-static key.']), 'scen-A', 'non-static key'),
        ('an RCU stall fails', Boot().test('scen-A', inside=['rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:']), 'scen-A', 'rcu: INFO'),
        ('a boot-time WARNING fails', Boot(boot_log=KUNIT_LOG + OTHER_WARN).test('scen-A'), 'boot-log-clean', 'WARNING'),
]:
    p, r, _ = judge('base', boot)
    case(desc, is_(r, name, 'not ok', want) and p.returncode != 0, p.stdout)
b = Boot().test('scen-A')
b.skip_seq = 5
p, r, _ = judge('base', b)
case('lost kernel log records fail the run', is_(r, 'kmsg-complete', 'not ok', 'were lost'), p.stdout)
b = Boot().test('scen-A')
b.final['reader_alive'] = '0'
p, r, _ = judge('base', b)
case('a dead log reader fails the run', is_(r, 'kmsg-complete', 'not ok', 'reader died'), p.stdout)
b = Boot().test('scen-A')
b.final['debug_locks'] = '0'
p, r, _ = judge('base', b)
case('lockdep turned off fails the run', is_(r, 'lockdep-still-on', 'not ok', 'debug_locks is 0'), p.stdout)
# 9. A test the guest never ran (or whose record it did not finish).
b = Boot().test('scen-A').test('scen-A2')
b.tests[1][2].clear()
p, r, _ = judge('base', b)
case('a test without a record fails', 'scen-A2' in r and r['scen-A2'][0] == 'not ok', p.stdout)
b = Boot().test('scen-A').test('scen-B', rc=3, out=['# bug: the bug'])
b.dead = True
p, r, _ = judge('base', b)
case('a guest that left nothing: every test fails, no crash of the judge',
     p.returncode == 1 and r.get('scen-A', ('',))[0] == 'not ok' and r.get('scen-B', ('',))[0] == 'not ok'
     and r.get('kmsg-complete', ('',))[0] == 'not ok' and 'Traceback' not in p.stderr, p.stdout + p.stderr)
# 10. KUnit, strictly.
for desc, log, want in [
        ('a listed suite that did not run fails', [l for l in KUNIT_LOG if 'suite_a' not in l and 'case_' not in l], 'did not run'),
        ('a skipped listed suite fails', [l.replace('ok 1 suite_a', 'ok 1 suite_a # SKIP no hw') for l in KUNIT_LOG], 'skipped'),
        ('a case count other than recorded fails', [l for l in KUNIT_LOG if 'case_two' not in l], '1 cases ran, tests/kunit-suites records 2'),
        ('a failing listed suite fails', [l.replace('ok 1 suite_a', 'not ok 1 suite_a').replace('    ok 2 case_two', '    not ok 2 case_two') for l in KUNIT_LOG], 'the suite failed'),
]:
    p, r, _ = judge(1, Boot(boot_log=log).test('scen-A'))
    case(desc, is_(r, 'kunit-suite_a', 'not ok', want), p.stdout)
p, r, _ = judge(1, Boot(boot_log=[l.replace('ok 2 suite_x', 'not ok 2 suite_x') for l in KUNIT_LOG]).test('scen-A'))
case('a failing suite not in tests/kunit-suites fails', is_(r, 'kunit-other-suites', 'not ok', 'suite_x: not ok'), p.stdout)
p, r, _ = judge(1, clean())
case('KUnit cases are nested as subtests', '    # Subtest: kunit-suite_a' in p.stdout and '    ok 2 case_two' in p.stdout, p.stdout)
# 11. A boot of its own: its oops is the bug; anything else in that boot fails it.
OOPS = ['BUG: unable to handle page fault for address: ffd4', 'Oops: 0002 [#1] SMP', 'CPU: 0 PID: 2',
        'RIP: 0010:the_pinned_release+0xd/0xa0', 'Call Trace:', '---[ end trace 0000000000000000 ]---']
own = Boot('own:scen-own').test('scen-own', rc=3, out=['# bug: the own bug'], inside=OOPS, oops=1)
own.final['debug_locks'] = '0'
p, r, _ = judge('base', clean(), own)
case('own boot: the declared oops is XFAIL, lockdep off after it allowed', is_(r, 'scen-own', 'ok', '^XFAIL fixed by patch 21'), p.stdout)
own2 = Boot('own:scen-own').test('scen-own', rc=3, out=['# bug: the own bug'], after=OTHER_WARN)
p, r, _ = judge('base', clean(), own2)
case('own boot: a report after the test fails it', is_(r, 'scen-own', 'not ok', 'in its own boot'), p.stdout)
own3 = Boot('own:scen-own').test('scen-own', rc=3, out=['# bug: the own bug'],
                                 inside=[l.replace('the_pinned_release', 'xfs_something_else') for l in OOPS], oops=1)
p, r, _ = judge('base', clean(), own3)
case('own boot: an oops in another function is not the declared one', is_(r, 'scen-own', 'not ok', 'outside the declared'), p.stdout)
# 12. What the review found.
p, r, _ = judge('base', Boot().test('scen-A'), partial=False)
case('a scenario of tests/expectations that the suite does not run fails',
     is_(r, 'expectations-all-planned', 'not ok', 'scen-B, scen-own'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A', inside=[('EXT4-fs error (device pmem0): bad block', 3)]))
case('a KERN_ERR message in a window fails the test', is_(r, 'scen-A', 'not ok', 'EXT4-fs error'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A').test('scen-B', rc=3, out=['# bug: the bug'], inside=[('Buffer I/O error on dev pmem0', 3)]))
case('a KERN_ERR message in an XFAIL window is not the declared signature', is_(r, 'scen-B', 'not ok', 'Buffer I/O error'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A', inside=[('9pnet_virtio: no channels available for device ', 3)]))
case('the benign boot-time 9p message is not a report', is_(r, 'scen-A', 'ok'), p.stdout)
p, r, _ = judge('base', Boot().test('scen-A').test('scen-B', rc=3, out=['# bug: the bug', '# FAIL: something else'], inside=WARN, warn=1))
case('exit 3 with another failed check is a failure', is_(r, 'scen-B', 'not ok', 'failed check besides the bug'), p.stdout)
b = Boot().test('scen-A')
b.tests[0][2]['warn_before'] = -1
p, r, _ = judge('base', b)
case('an unreadable warn_count fails the test', is_(r, 'scen-A', 'not ok', 'could not be read'), p.stdout)
print(f'{N - FAILED} passed, {FAILED} failed')
sys.exit(1 if FAILED else 0)
