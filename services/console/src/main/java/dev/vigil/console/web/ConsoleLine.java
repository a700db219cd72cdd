package dev.vigil.console.web;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** A line of a VM's console text, marked when it is part of how a crash announces itself. */
public record ConsoleLine(String text, boolean hit) {

    /** The first lines of kernel crash reports: panics, oopses, BUGs, warnings, sanitizers, lockups, call traces. */
    static final Pattern CRASH = Pattern.compile(
            "Kernel panic|Oops|BUG:|WARNING:|general protection fault|KASAN:|UBSAN:|KFENCE:|soft lockup|hard LOCKUP"
                    + "|hung_task|blocked for more than|Call Trace:|RIP: |Unable to handle kernel|\\*\\*\\* STOP");

    static List<ConsoleLine> of(String text) {
        List<ConsoleLine> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            lines.add(new ConsoleLine(line, CRASH.matcher(line).find()));
        }
        return lines;
    }
}
