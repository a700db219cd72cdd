package dev.vigil.dispatch;

import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Domains;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.devstack.HypervisorAssumptions;
import dev.vigil.devstack.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * The real hypervisor (libvirtd with QEMU under TCG, from {@code devstack/hypervisor/setup}) for delivery tests: the
 * VMs a test makes are removed after it. Connections are short-lived: once an agent in this JVM has registered
 * libvirt's event loop, libvirtd closes a connection that stays idle past its keepalive (no loop answers it here).
 */
final class RealHypervisor implements AutoCloseable {

    /** A release's domain on the real hypervisor: the test guest with a serial console and a panic device. */
    static final String TEMPLATE = """
            <domain type='qemu'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>{{param.memoryMiB}}</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
              <features><acpi/></features>
              <on_crash>preserve</on_crash>
              <devices>
                <disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda' bus='virtio'/></disk>
                <serial type='file'><source path='{{vigil.console}}'/><target port='0'/></serial>
                <panic model='isa'/>
              </devices>
            </domain>
            """;

    private final List<String> vms = new ArrayList<>();
    private final List<Connect> connections = new ArrayList<>();

    /** Skips the test when there is no real hypervisor here, or fails it when CI requires one. */
    static void assumeReady() {
        HypervisorAssumptions.assumeReady();
    }

    /** A release of the test guest for the real hypervisor. */
    static Map<String, Object> release(String version) {
        Map<String, Object> release = Vendor.release(version, "beta");
        release.put("domainTemplate", TEMPLATE);
        release.put(
                "parameters",
                List.of(Map.of(
                        "name", "memoryMiB", "kind", "INTEGER", "defaultValue", "256", "min", 128, "max", 1024)));
        return release;
    }

    /** A host on the real hypervisor with its own image port and these settings. */
    static AgentHost host(Path state, Map<String, String> settings) throws Exception {
        int port = Ports.free();
        Map<String, String> values = new HashMap<>(settings);
        values.put("VIGIL_AGENT_HYPERVISOR_URI", GuestDomain.URI);
        values.put("VIGIL_AGENT_IMAGE_PORT", Integer.toString(port));
        return new AgentHost(state, values);
    }

    /** Removes VM {@code uuid} after the test. */
    void removeAfter(String uuid) {
        vms.add(uuid);
    }

    /** A new connection, closed after the test. */
    Connect connect() throws LibvirtException {
        Connect connection = new Connect(GuestDomain.URI);
        connections.add(connection);
        return connection;
    }

    /** The VM, looked up on a new connection. */
    Domain vm(String uuid) throws LibvirtException {
        return connect().domainLookupByUUIDString(uuid);
    }

    /** Waits for {@code text} on a VM's console; on a timeout, says what the VM and the host were doing. */
    void awaitConsole(Path console, String text, Duration timeout, AgentHost host, String vm) throws Exception {
        try {
            await().atMost(timeout).until(() -> console(console).contains(text));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no '" + text + "' on the console: " + diagnosis(console, host, vm), e);
        }
    }

    String diagnosis(Path console, AgentHost host, String vm) throws Exception {
        String text = console(console);
        return "VM state " + vm(vm).getInfo().state + "; console (" + text.length() + " characters) ends: "
                + text.substring(Math.max(0, text.length() - 1500)) + "\nprinted:\n" + host.printed();
    }

    static String console(Path console) throws Exception {
        return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
    }

    @Override
    public void close() throws LibvirtException {
        Connect hypervisor = connect();
        for (String uuid : vms) {
            try {
                Domains.remove(hypervisor.domainLookupByUUIDString(uuid));
            } catch (LibvirtException ignored) {
                // already gone
            }
        }
        for (Connect connection : connections) {
            try {
                connection.close();
            } catch (LibvirtException ignored) {
                // closed by libvirtd
            }
        }
    }
}
