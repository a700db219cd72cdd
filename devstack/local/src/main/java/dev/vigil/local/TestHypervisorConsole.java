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
 * Drives libvirt's test hypervisor from a terminal so a person can make VMs start, pause and stop and watch the
 * agent report it. The agent watches the same in-process test driver.
 */
final class TestHypervisorConsole {

    static final String HELP = "start NAME | suspend NAME | resume NAME | destroy NAME | list | help | quit";

    private final Connect hypervisor;
    private final PrintStream out;

    TestHypervisorConsole(Connect hypervisor, PrintStream out) {
        this.hypervisor = hypervisor;
        this.out = out;
    }

    /**
     * Reads commands until {@code quit} or end of input.
     *
     * @return true when the person typed {@code quit}, false when the input ended
     */
    boolean run(BufferedReader in) throws IOException {
        out.print("vigil> ");
        out.flush();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isBlank()) {
                out.print("vigil> ");
                out.flush();
                continue;
            }
            if (line.trim().equalsIgnoreCase("quit")) {
                return true;
            }
            out.println(execute(line.trim()));
            out.print("vigil> ");
            out.flush();
        }
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
                case "help" -> HELP;
                case "start" -> start(name);
                case "suspend" -> named(name, Domain::suspend, "suspended");
                case "resume" -> named(name, Domain::resume, "resumed");
                case "destroy" -> named(name, Domain::destroy, "destroyed");
                default -> "unknown command '" + verb + "': " + HELP;
            };
        } catch (LibvirtException e) {
            return "libvirt: " + e.getMessage();
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
            return "which VM? " + HELP;
        }
        action.apply(hypervisor.domainLookupByName(name));
        return name + " " + done;
    }

    @FunctionalInterface
    private interface DomainAction {
        void apply(Domain domain) throws LibvirtException;
    }
}
