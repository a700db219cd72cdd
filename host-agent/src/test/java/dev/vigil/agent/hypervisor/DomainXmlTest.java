package dev.vigil.agent.hypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DomainXmlTest {

    private static final String LINUX = """
            <domain type='qemu'>
              <name>beta</name>
              <devices>
                <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                  <source file='/var/lib/vms/beta.qcow2'/><target dev='vda' bus='virtio'/></disk>
                <disk type='file' device='cdrom'><source file='/isos/tools.iso'/><target dev='sda'/></disk>
                <disk type='network' device='disk'><source protocol='nbd' name='x'/><target dev='vdb'/></disk>
                <serial type='pty'><target port='0'/></serial>
                <serial type='file'><source path='/var/log/vigil/beta.console'/><target port='1'/></serial>
              </devices>
            </domain>
            """;

    @Test
    void readsTheFileConsoleAndTheFileBackedDisks() {
        DomainXml xml = DomainXml.parse(LINUX).orElseThrow();
        assertThat(xml.consoleFile()).contains(Path.of("/var/log/vigil/beta.console"));
        assertThat(xml.disks()).containsExactly(new DomainXml.Disk("vda", Path.of("/var/lib/vms/beta.qcow2"), "qcow2"));
        assertThat(xml.windowsGuest()).isFalse();
    }

    @Test
    void recognisesAWindowsGuestByItsOsOrItsHyperVCrashMsrs() {
        String libosinfo = """
                <domain><metadata><libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
                <libosinfo:os id="http://microsoft.com/win/11"/></libosinfo:libosinfo></metadata></domain>""";
        String hyperv = "<domain><features><hyperv><crash state='on'/></hyperv></features></domain>";
        assertThat(DomainXml.parse(libosinfo).orElseThrow().windowsGuest()).isTrue();
        assertThat(DomainXml.parse(hyperv).orElseThrow().windowsGuest()).isTrue();
        assertThat(DomainXml.parse("<domain/>").orElseThrow().consoleFile()).isEmpty();
    }

    @Test
    void refusesEntitiesAndMalformedXml() {
        String xxe = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                + "<domain><devices><serial type='file'><source path='&x;'/></serial></devices></domain>";
        assertThat(DomainXml.parse(xxe)).isEmpty();
        assertThat(DomainXml.parse("<domain><devices>")).isEmpty();
        assertThat(DomainXml.parse(null)).isEmpty();
    }
}
