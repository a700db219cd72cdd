package dev.vigil.triage.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

public class LinuxConsoleParserTest {

    /** The panic the crash-capture test's guest produces (sysrq c on Debian's 6.1 kernel), with boot noise. */
    public static final String SYSRQ_PANIC = """
            [    3.401234] Run /init as init process
            vigil-guest: up, scenario=panic
            vigil-guest: panicking
            [    3.525140] sysrq: Trigger a crash
            [    3.525385] Kernel panic - not syncing: sysrq triggered crash
            [    3.525701] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-56-amd64 #1  Debian 6.1.192-2
            [    3.525935] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
            [    3.526196] Call Trace:
            [    3.526396]  <TASK>
            [    3.526501]  dump_stack_lvl+0x44/0x5c
            [    3.526790]  panic+0x118/0x2f4
            [    3.527118]  sysrq_handle_crash+0x16/0x20
            [    3.527215]  __handle_sysrq.cold+0x44/0x11c
            [    3.527299]  write_sysrq_trigger+0x24/0x40
            [    3.527402]  proc_reg_write+0x56/0xa0
            [    3.527511]  vfs_write+0xce/0x3f0
            [    3.527633]  ksys_write+0x6f/0xf0
            [    3.527748]  do_syscall_64+0x55/0xb0
            [    3.527890]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8
            [    3.528111] RIP: 0033:0x47b7a0
            [    3.528251] Code: Unable to access opcode bytes at 0x47b776.
            [    3.529593]  </TASK>
            [    3.530001] Kernel Offset: 0x1a000000 from 0xffffffff81000000
            """;

    public static final String GPF = """
            [  431.123456] general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI
            [  431.123460] CPU: 2 PID: 4242 Comm: kworker/2:1 Tainted: G        W  O      6.5.0-rc3+ #7
            [  431.123462] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)
            [  431.123464] Workqueue: events acme_flush_work [acme]
            [  431.123470] RIP: 0010:acme_list_del.isra.0+0x12/0x40 [acme]
            [  431.123472] Code: 48 8b 47 08 <48> 89 10 c3
            [  431.123480] RSP: 0018:ffffb1a0c05f7e48 EFLAGS: 00010246
            [  431.123490] Call Trace:
            [  431.123491]  <TASK>
            [  431.123492]  ? die_addr+0x36/0x90
            [  431.123493]  ? exc_general_protection+0x1c5/0x410
            [  431.123494]  ? asm_exc_general_protection+0x26/0x30
            [  431.123495]  acme_list_del.isra.0+0x12/0x40 [acme]
            [  431.123496]  acme_flush_work+0x55/0x120 [acme]
            [  431.123497]  process_one_work+0x1e2/0x3e0
            [  431.123498]  worker_thread+0x50/0x3a0
            [  431.123499]  kthread+0xe8/0x120
            [  431.123500]  ret_from_fork+0x34/0x50
            [  431.123501]  </TASK>
            [  431.123502] Modules linked in: acme(O) nf_tables virtio_net [last unloaded: foo]
            [  431.123503] ---[ end trace 0000000000000000 ]---
            """;

    @Test
    void readsAPanicWithItsCallTraceAndKernel() {
        KernelReport r = LinuxConsoleParser.parse(SYSRQ_PANIC).orElseThrow();
        assertThat(r.crashClass()).isEqualTo("panic");
        assertThat(r.panicMessage()).isEqualTo("sysrq triggered crash");
        assertThat(r.release()).isEqualTo("6.1.0-56-amd64");
        assertThat(r.taint()).isNull();
        assertThat(r.frames())
                .extracting(Frame::function)
                .startsWith("dump_stack_lvl", "panic", "sysrq_handle_crash", "__handle_sysrq.cold");
        assertThat(r.faultingFunction()).as("a user-space RIP has no symbol").isNull();
    }

    @Test
    void readsAGeneralProtectionFaultSkippingUnreliableFrames() {
        KernelReport r = LinuxConsoleParser.parse(GPF).orElseThrow();
        assertThat(r.crashClass()).isEqualTo("gpf");
        assertThat(r.faultingFunction()).isEqualTo("acme_list_del.isra.0");
        assertThat(r.faultingModule()).isEqualTo("acme");
        assertThat(r.frames())
                .extracting(Frame::function)
                .containsExactly(
                        "acme_list_del.isra.0",
                        "acme_flush_work",
                        "process_one_work",
                        "worker_thread",
                        "kthread",
                        "ret_from_fork");
        assertThat(r.modules()).containsExactly("acme", "nf_tables", "virtio_net");
        assertThat(r.taint()).isEqualTo("G W O");
        assertThat(r.release()).isEqualTo("6.5.0-rc3+");
    }

    @Test
    void readsRelativeTimestampsAndOlderFrameFormats() {
        KernelReport relative = LinuxConsoleParser.parse("""
                [  +0.000019] UBSAN: invalid-load in ./include/linux/kexec.h:210:12
                [  +0.000131] load of value 2 is not a valid value for type 'bool' (aka '_Bool')
                [  +0.000000] Call trace:
                [  +0.000001]  dump_stack+0x18/0x34
                [  +0.000003]  locate_mem_hole_callback+0x28c/0x2a0
                """).orElseThrow();
        assertThat(relative.frames())
                .extracting(Frame::function)
                .containsExactly("dump_stack", "locate_mem_hole_callback");
        assertThat(relative.corrupted()).isNull();

        KernelReport i386 = LinuxConsoleParser.parse("""
                 BUG: scheduling while atomic: hald-addon-stor/0x20000000/5170
                  [schedule+1529/2816] __sched_text_start+0x5f9/0xb00
                  [blk_done_softirq+88/112] blk_done_softirq+0x58/0x70
                """).orElseThrow();
        assertThat(i386.frames()).extracting(Frame::function).containsExactly("__sched_text_start", "blk_done_softirq");

        KernelReport rt = LinuxConsoleParser.parse("""
                BUG: scheduling while atomic: events/0/0x00000001/10
                 [<c03a97b1>] __schedule+0x591/0x730 (8)
                 [<d792d198>] free_send_packet+0x28/0x70 [ndiswrapper] (16)
                """).orElseThrow();
        assertThat(rt.frames()).extracting(Frame::function).containsExactly("__schedule", "free_send_packet");
    }

    @Test
    void textBeforeAReportOnItsLineIsNotInterleavingButTextInsideItIs() {
        KernelReport afterPrompt = LinuxConsoleParser.parse("""
                bob9-u5 login: [  562.316860] BUG: spinlock recursion on CPU#7, swapper/7/0
                [  562.321277] Call Trace:
                [  562.322674]  lock_sock_nested+0x1e/0x50
                """).orElseThrow();
        assertThat(afterPrompt.corrupted()).isNull();

        KernelReport glued = LinuxConsoleParser.parse("""
                BUG: spinlock recursion on CPU#7, swap[  562.316861] usb 1-1: reset
                Call Trace:
                 lock_sock_nested+0x1e/0x50
                """).orElseThrow();
        assertThat(glued.corrupted()).startsWith("interleaved:");
    }

    @Test
    void anAllocationStackIsNotTheAccessStack() {
        KernelReport kasan = LinuxConsoleParser.parse("""
                BUG: KASAN: use-after-free in vsnprintf+0x1727/0x19a0
                Read of size 8 at addr ffff8880952500a0 by task a.out/9180
                Call Trace:

                Allocated by task 8:
                 save_stack+0x23/0x90
                 acme_open+0x52/0x90
                """).orElseThrow();
        assertThat(kasan.frames()).isEmpty();
    }

    @Test
    void readsWarningsKasanAndHungTasksFromTheirReasonLines() {
        KernelReport warning = LinuxConsoleParser.parse("""
                ------------[ cut here ]------------
                WARNING: CPU: 1 PID: 77 at block/blk-core.c:123 blk_sync_queue+0x2c/0x40
                Modules linked in:
                CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 6.6.0 #1
                RIP: 0010:blk_sync_queue+0x2c/0x40
                Call Trace:
                 <TASK>
                 del_gendisk+0x101/0x2d0
                 virtblk_remove+0x2b/0x90
                 </TASK>
                ---[ end trace 0000000000000000 ]---
                """).orElseThrow();
        assertThat(warning.crashClass()).isEqualTo("warning");
        assertThat(warning.reportedFunction()).isEqualTo("blk_sync_queue");

        KernelReport kasan = LinuxConsoleParser.parse("""
                ==================================================================
                BUG: KASAN: use-after-free in xyz_read+0x1f/0x60 [xyz]
                Read of size 8 at addr ffff888012345678 by task cat/1234
                CPU: 0 PID: 1234 Comm: cat Tainted: G    B   6.1.0 #1
                Call Trace:
                 <TASK>
                 dump_stack_lvl+0x4c/0x70
                 print_report+0xcf/0x620
                 kasan_report+0xb1/0xe0
                 xyz_read+0x1f/0x60 [xyz]
                 vfs_read+0xa1/0x2c0
                 </TASK>
                """).orElseThrow();
        assertThat(kasan.crashClass()).isEqualTo("kasan");
        assertThat(kasan.subtype()).isEqualTo("use-after-free");
        assertThat(kasan.access()).isEqualTo("Read");
        assertThat(kasan.reportedFunction()).isEqualTo("xyz_read");

        KernelReport hung = LinuxConsoleParser.parse("""
                INFO: task jbd2/vda1-8:123 blocked for more than 120 seconds.
                      Not tainted 6.1.0 #1
                "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
                task:jbd2/vda1-8     state:D stack:0     pid:123   ppid:2      flags:0x00004000
                Call Trace:
                 <TASK>
                 __schedule+0x34d/0x9e0
                 schedule+0x5a/0xd0
                 io_schedule+0x42/0x70
                 bit_wait_io+0xd/0x60
                 __wait_on_bit+0x48/0x150
                 out_of_line_wait_on_bit+0x92/0xb0
                 jbd2_journal_commit_transaction+0x16e5/0x1a30
                 kjournald2+0xab/0x270
                 </TASK>
                """).orElseThrow();
        assertThat(hung.crashClass()).isEqualTo("hung-task");
        assertThat(hung.frames()).extracting(Frame::function).contains("jbd2_journal_commit_transaction");
    }

    @Test
    void textWithoutAReportHasNone() {
        assertThat(LinuxConsoleParser.parse("")).isEmpty();
        assertThat(LinuxConsoleParser.parse("[    0.000000] Linux version 6.1.0\nall good\n"))
                .isEmpty();
    }

    @Test
    void randomAndMutatedTextNeverThrowsAndStaysBounded() {
        Random random = new Random(99);
        String[] seeds = {SYSRQ_PANIC, GPF};
        for (int round = 0; round < 3_000; round++) {
            StringBuilder text = new StringBuilder(seeds[round % 2]);
            for (int m = random.nextInt(20); m > 0; m--) {
                int at = random.nextInt(text.length() + 1);
                switch (random.nextInt(4)) {
                    case 0 -> text.insert(at, (char) random.nextInt(0x3000));
                    case 1 -> text.delete(at, Math.min(text.length(), at + random.nextInt(40)));
                    case 2 -> text.insert(at, "\n" + seeds[random.nextInt(2)].substring(0, random.nextInt(200)));
                    default -> text.insert(at, "(".repeat(random.nextInt(3000)));
                }
            }
            LinuxConsoleParser.parse(text.toString())
                    .ifPresent(r -> assertThat(r.frames()).hasSizeLessThanOrEqualTo(128));
        }
        // A pathological single line is cut, not scanned forever.
        assertThat(LinuxConsoleParser.parse("general protection fault: 0000 [#1] " + "x".repeat(5_000_000)))
                .isPresent();
    }
}
