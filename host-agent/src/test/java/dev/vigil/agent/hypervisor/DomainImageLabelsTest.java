package dev.vigil.agent.hypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.agent.mapping.ImageLabel;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DomainImageLabelsTest {

    private static final String DOMAIN = """
            <domain type='kvm'>
              <name>beta-1</name>
              <metadata>
                <other:thing xmlns:other='urn:someone:else' product='Wrong' release='0'/>
                <vigil:image xmlns:vigil='urn:vigil:image:1' product='AcmeOS' release=' 12.0-beta3 '/>
              </metadata>
              <memory>65536</memory>
            </domain>""";

    @Test
    void readsProductAndReleaseFromTheVigilNamespaceOnly() {
        assertThat(DomainImageLabels.parse(DOMAIN)).isEqualTo(new ImageLabel("AcmeOS", "12.0-beta3"));
    }

    @Test
    void aDomainWithoutVigilMetadataDeclaresNothing() {
        assertThat(DomainImageLabels.parse("<domain><name>x</name></domain>")).isEqualTo(ImageLabel.NONE);
        assertThat(DomainImageLabels.parse(DOMAIN.replace("urn:vigil:image:1", "urn:vigil:image:2")))
                .isEqualTo(ImageLabel.NONE);
    }

    @Test
    void refusesDoctypesSoNoEntityIsEverExpanded() {
        String xxe = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                + "<domain><metadata><vigil:image xmlns:vigil='urn:vigil:image:1' product='&x;'/></metadata></domain>";
        String laughs = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>"
                + "<domain><metadata><vigil:image xmlns:vigil='urn:vigil:image:1' product='&b;'/></metadata></domain>";

        assertThat(DomainImageLabels.parse(xxe)).isEqualTo(ImageLabel.NONE);
        assertThat(DomainImageLabels.parse(laughs)).isEqualTo(ImageLabel.NONE);
    }

    @Test
    void dropsValuesThatAreTooLongOrCarryControlCharacters() {
        String tooLong = DOMAIN.replace("AcmeOS", "A".repeat(DomainImageLabels.MAX_VALUE_CHARS + 1));
        String control = DOMAIN.replace("12.0-beta3", "12&#10;rm -rf");

        assertThat(DomainImageLabels.parse(tooLong)).isEqualTo(new ImageLabel(null, "12.0-beta3"));
        assertThat(DomainImageLabels.parse(control)).isEqualTo(new ImageLabel("AcmeOS", null));
    }

    @Test
    void mutatedDomainXmlNeverThrowsAndNeverInventsLabels() {
        Random random = new Random(42);
        byte[] original = DOMAIN.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 5_000; i++) {
            byte[] mutated = original.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(128);
            }
            ImageLabel label = DomainImageLabels.parse(new String(mutated, StandardCharsets.UTF_8));
            assertThat(label).isNotNull();
            if (label.product() != null) {
                assertThat(label.product()).hasSizeLessThanOrEqualTo(DomainImageLabels.MAX_VALUE_CHARS);
                assertThat(label.product().chars()).noneMatch(Character::isISOControl);
            }
        }
    }
}
