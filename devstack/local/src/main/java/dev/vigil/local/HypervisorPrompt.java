package dev.vigil.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Drives the hypervisor the local agent watches from a terminal, so a person can make VMs start, pause, stop and,
 * on the real hypervisor, crash, hang, trip their watchdog or fill their disk, and watch Vigil report it. On libvirt's
 * test hypervisor (in-process, the same driver the agent watches) VMs cannot fail, and those commands say what is
 * needed.
 */
final class HypervisorPrompt {

    static final String HELP = "start NAME | suspend NAME | resume NAME | destroy NAME | list | help | quit"
            + " (crash, hang, watchdog and diskfull NAME need QEMU)";
    static final String REAL_HELP = "start NAME | crash NAME | hang NAME | watchdog NAME | diskfull NAME | suspend NAME"
            + " | resume NAME | destroy NAME | list | help | quit";
    static final String NEEDS_REAL = "needs the real hypervisor (QEMU): libvirt's test hypervisor cannot make a guest"
            + " fail. Run sudo devstack/hypervisor/setup once (about 15 s), then devstack/run again: it uses QEMU when"
            + " the setup is there.";

    private final Connect hypervisor;
    private final PrintStream out;
    private final RealGuests real;
    private final String consoleUrl;

    HypervisorPrompt(Connect hypervisor, PrintStream out) {
        this(hypervisor, out, null, "");
    }

    /** A prompt for the real hypervisor's {@code guests} (or the test hypervisor's VMs when null). */
    HypervisorPrompt(Connect hypervisor, PrintStream out, RealGuests guests, String consoleUrl) {
        this.hypervisor = hypervisor;
        this.out = out;
        this.real = guests;
        this.consoleUrl = consoleUrl;
    }

    /** The commands this prompt takes. */
    String help() {
        return real == null ? HELP : REAL_HELP;
    }

    /**
     * Reads commands until {@code quit} or end of input.
     *
     * @return true when the person typed {@code quit}, false when the input ended
     */
    boolean run(BufferedReader in) throws IOException {
        PromptLog.prompt(out);
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            PromptLog.answered();
            if (line.isBlank()) {
                PromptLog.prompt(out);
                continue;
            }
            if (line.trim().equalsIgnoreCase("quit")) {
                return true;
            }
            PromptLog.println(out, execute(line.trim()));
            PromptLog.prompt(out);
        }
        PromptLog.answered();
        return false;
    }

    /** Runs one command and returns what to show. */
    String execute(String line) {
        String[] words = line.split("\\s+", 2);
        String verb = words[0].toLowerCase(Locale.ROOT);
        String name = words.length > 1 ? words[1].trim() : "";
        try {
            return switch (verb) {
                case "list" -> list();
                case "help" -> help();
                case "start" -> start(name);
                case "crash" -> fail(name, "panic", "boots and panics");
                case "hang" ->
                    fail(
                            name,
                            "hang",
                            "boots and spins behind a frozen screen (reported as a hang after one to two minutes)");
                case "watchdog" -> fail(name, "watchdog", "boots, arms its watchdog and stops feeding it");
                case "diskfull" ->
                    fail(name, "diskfull", "boots and fills its disk until the host's file system is" + " full");
                case "suspend" -> named(name, Domain::suspend, "suspended");
                case "resume" -> named(name, Domain::resume, "resumed");
                case "destroy" -> named(name, Domain::destroy, "destroyed");
                default -> "unknown command '" + verb + "': " + help();
            };
        } catch (LibvirtException e) {
            return "libvirt: " + e.getMessage();
        }
    }

    private String fail(String name, String scenario, String what) throws LibvirtException {
        if (real == null) {
            return scenario.equals("panic") ? "crash " + NEEDS_REAL : scenario + " " + NEEDS_REAL;
        }
        if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
            return "a VM name is 1-64 letters, digits, '.', '_' or '-'";
        }
        try {
            String uuid = real.boot(name, scenario);
            return name + " " + what + "; watch its bucket appear at " + consoleUrl + "/ (its timeline: " + consoleUrl
                    + "/vms/" + uuid + ")";
        } catch (IllegalStateException | java.io.IOException e) {
            return name + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Defines (if needed) and starts a VM on the test hypervisor; returns its UUID. */
    String startDomain(String name) throws LibvirtException {
        Domain domain;
        try {
            domain = hypervisor.domainLookupByName(name);
        } catch (LibvirtException e) {
            // A stable UUID per name, as a real hypervisor keeps across restarts of the local platform.
            UUID uuid = UUID.nameUUIDFromBytes(("vigil-local/" + name).getBytes(StandardCharsets.UTF_8));
            domain = hypervisor.domainDefineXML("<domain type='test'><name>" + name + "</name><uuid>" + uuid
                    + "</uuid><memory>262144</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");
        }
        if (domain.isActive() == 0) {
            domain.create();
        }
        return domain.getUUIDString();
    }

    private String start(String name) throws LibvirtException {
        if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
            return "a VM name is 1-64 letters, digits, '.', '_' or '-'";
        }
        if (real != null) {
            if (isRunning(name)) {
                return name + " is already running";
            }
            return fail(name, "idle", "boots (an idle guest)");
        }
        boolean running = isRunning(name);
        String uuid = startDomain(name);
        return name + (running ? " is already running: " : " started: ") + "http://127.0.0.1:"
                + LocalPlatform.httpPort() + "/api/v1/vms/" + uuid + "/events";
    }

    private boolean isRunning(String name) throws LibvirtException {
        for (int id : hypervisor.listDomains()) {
            if (hypervisor.domainLookupByID(id).getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private String list() throws LibvirtException {
        StringBuilder text = new StringBuilder();
        for (int id : hypervisor.listDomains()) {
            Domain d = hypervisor.domainLookupByID(id);
            text.append(String.format("%-20s %-10s %s%n", d.getName(), d.getInfo().state, d.getUUIDString()));
        }
        for (String name : hypervisor.listDefinedDomains()) {
            text.append(String.format(
                    "%-20s %-10s %s%n",
                    name, "defined", hypervisor.domainLookupByName(name).getUUIDString()));
        }
        return text.toString().stripTrailing();
    }

    private String named(String name, DomainAction action, String done) throws LibvirtException {
        if (name.isEmpty()) {
            return "which VM? " + help();
        }
        action.apply(hypervisor.domainLookupByName(name));
        return name + " " + done;
    }

    @FunctionalInterface
    private interface DomainAction {
        void apply(Domain domain) throws LibvirtException;
    }
}
