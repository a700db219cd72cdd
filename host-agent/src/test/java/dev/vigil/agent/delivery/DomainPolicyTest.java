package dev.vigil.agent.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DomainPolicyTest {

    private static final String DOMAIN = "<domain type='kvm'><name>acme</name><memory unit='MiB'>1024</memory>"
            + "<os><type>hvm</type></os><devices>"
            + "<disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda'/></disk>"
            + "<disk type='file' device='cdrom'><target dev='sdb'/></disk>"
            + "<serial type='file'><source path='{{vigil.console}}'/></serial>"
            + "<interface type='network'><source network='default'/></interface>"
            + "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
            + "<graphics type='vnc' listen='127.0.0.1'/>"
            + "<!--EXTRA-->"
            + "</devices></domain>";

    @Test
    void theAgentPlacesItsOwnPathsAndMakesItsDiskAQcow2OverlayThatPausesOnErrors() throws Exception {
        String placed = DomainPolicy.place(
                DOMAIN.replace(
                        "<source file='{{vigil.disk}}'/>",
                        "<driver name='qemu' type='raw' cache='none'/>" + "<source file='{{vigil.disk}}'/>"),
                Path.of("/var/lib/vigil-agent/vms/u/disk.qcow2"),
                Path.of("/var/lib/vigil-agent/vms/u/console.log"),
                Map.of("opt/dev.vigil/license", "features=pro gpu"));
        assertThat(placed)
                .contains("<driver cache=\"none\" error_policy=\"stop\" name=\"qemu\" rerror_policy=\"stop\""
                        + " type=\"qcow2\"/>")
                .contains("<source file=\"/var/lib/vigil-agent/vms/u/disk.qcow2\"/>")
                .contains("/var/lib/vigil-agent/vms/u/console.log")
                .doesNotContain("{{vigil.")
                .contains("<sysinfo type=\"fwcfg\"><entry name=\"opt/dev.vigil/license\">features=pro gpu</entry>"
                        + "</sysinfo>");
        assertThat(DomainPolicy.place(DOMAIN, Path.of("/d.qcow2"), Path.of("/c.log"), Map.of()))
                .contains("<driver error_policy=\"stop\" name=\"qemu\" rerror_policy=\"stop\" type=\"qcow2\"/>");
    }

    @Test
    void aDomainThatStaysInsideItsVmPasses() {
        assertThatCode(() -> DomainPolicy.check(DOMAIN)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "<hostdev mode='subsystem' type='pci'/>|<hostdev>",
                "<filesystem type='mount'><source dir='/'/><target dir='host'/></filesystem>|<filesystem>",
                "<disk type='block'><source dev='/dev/sda'/><target dev='vdb'/></disk>|type 'block'",
                "<disk type='file'><source file='/etc/shadow'/><target dev='vdb'/></disk>|/etc/shadow",
                "<emulator>/tmp/evil-qemu</emulator>|<emulator>",
                "<interface type='direct'><source dev='eth0'/></interface>|type 'direct'",
                "<interface type='ethernet'><script path='/tmp/x.sh'/></interface>|type 'ethernet'",
                "<serial type='tcp'><source mode='bind' host='0.0.0.0' service='4444'/></serial>|type 'tcp'",
                "<console type='pty'><log file='/var/log/auth.log'/></console>|/var/log/auth.log",
                "<graphics type='vnc' listen='0.0.0.0'/>|loopback",
                "<graphics type='spice'><listen type='address' address='10.0.0.1'/></graphics>|loopback",
                "<channel type='unix'><source mode='bind' path='/run/libvirt/x'/></channel>|/run/libvirt/x",
                "<redirdev bus='usb' type='spicevmc'/>|<redirdev>",
                "<shmem name='host'/>|<shmem>"
            })
    void aDomainThatReachesTheHostIsRefusedSayingWhy(String extra, String why) {
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace("<!--EXTRA-->", extra)))
                .isInstanceOfSatisfying(DeliveryException.class, e -> {
                    org.assertj.core.api.Assertions.assertThat(e.kind()).isEqualTo(DeliveryException.Kind.POLICY);
                    org.assertj.core.api.Assertions.assertThat(e.getMessage())
                            .contains(why)
                            .contains("Nothing was installed");
                });
    }

    @Test
    void firmwareEntriesMayNotCarryHostFilesOrSpeakForTheAgent() {
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace(
                        "</devices></domain>",
                        "</devices><sysinfo type='fwcfg'><entry name='opt/x' file='/etc/shadow'/></sysinfo></domain>")))
                .hasMessageContaining("host file '/etc/shadow'");
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace(
                        "</devices></domain>",
                        "</devices><sysinfo type='fwcfg'><entry name='opt/dev.vigil/license'>features=all</entry>"
                                + "</sysinfo></domain>")))
                .hasMessageContaining("the agent's");
        assertThatCode(() -> DomainPolicy.check(DOMAIN.replace(
                        "</devices></domain>",
                        "</devices><sysinfo type='fwcfg'><entry name='opt/com.acme/mode'>beta</entry></sysinfo>"
                                + "</domain>")))
                .doesNotThrowAnyException();
    }

    @Test
    void hostKernelsQemuCommandLinesOtherHypervisorsAndEntitiesAreRefused() {
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace(
                        "<os><type>hvm</type></os>", "<os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os>")))
                .hasMessageContaining("<kernel>");
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace(
                                "<domain type='kvm'>",
                                "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
                        .replace(
                                "</devices>", "</devices><qemu:commandline><qemu:arg value='-s'/></qemu:commandline>")))
                .hasMessageContaining("QEMU its own command line");
        assertThatThrownBy(() -> DomainPolicy.check(DOMAIN.replace("type='kvm'", "type='xen'")))
                .hasMessageContaining("kvm, qemu or test");
        assertThatThrownBy(() -> DomainPolicy.check("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>" + DOMAIN))
                .hasMessageContaining("not well-formed");
    }
}
