package dev.vigil.dispatch.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DomainTemplateTest {

    private static final String TEMPLATE = "<domain type='kvm'><name>ignored</name><memory unit='MiB'>{{param.memory}}"
            + "</memory><metadata><other xmlns='urn:x'/></metadata><devices><disk><source file='{{vigil.disk}}'/>"
            + "</disk><serial type='file'><source path='{{vigil.console}}'/></serial></devices>"
            + "<sysinfo type='fwcfg'><entry name='opt/vigil/first-boot'>{{ param.note }}</entry></sysinfo></domain>";
    private static final List<TemplateParameter> PARAMETERS = List.of(
            new TemplateParameter("memory", TemplateParameter.Kind.INTEGER, "1024", 256L, 4096L, null, null, ""),
            new TemplateParameter("note", TemplateParameter.Kind.TEXT, "", null, null, 100, null, ""));

    @Test
    void rendersValuesEscapedAndSetsNameUuidAndImageMetadata() throws Exception {
        DomainTemplate.Rendered rendered = DomainTemplate.render(
                TEMPLATE,
                PARAMETERS,
                Map.of("note", "<script>&'\"</script>"),
                "AcmeOS",
                "12.0",
                "acme-1",
                "0b4c1f3e-7c1a-4f59-9c1e-2a1d3c4b5e6f");

        assertThat(rendered.xml())
                .contains("<name>acme-1</name>")
                .contains("<uuid>0b4c1f3e-7c1a-4f59-9c1e-2a1d3c4b5e6f</uuid>")
                .contains("<memory unit=\"MiB\">1024</memory>")
                .contains("&lt;script&gt;&amp;'\"&lt;/script&gt;")
                .contains("{{vigil.disk}}")
                .contains("{{vigil.console}}")
                .contains("<other xmlns=\"urn:x\"/>")
                .containsPattern("<vigil:image [^>]*product=\"AcmeOS\" release=\"12.0\"")
                .contains("xmlns:vigil=\"urn:vigil:image:1\"")
                .doesNotContain("ignored");
        assertThat(rendered.parameters())
                .containsEntry("memory", "1024")
                .containsEntry("note", "<script>&'\"</script>");
    }

    @Test
    void refusesValuesAndTemplatesThatCannotMakeADomain() {
        assertThatThrownBy(() -> render(Map.of("memory", "100000"))).hasMessageContaining("memory must be 256-4096");
        assertThatThrownBy(() -> render(Map.of("memory", "lots"))).hasMessageContaining("whole number");
        assertThatThrownBy(() -> render(Map.of("disk", "/etc/shadow"))).hasMessageContaining("no parameter disk");
        assertThatThrownBy(() -> render(Map.of("note", "a\u0000b"))).hasMessageContaining("control characters");
        assertThatThrownBy(() -> DomainTemplate.check(TEMPLATE.replace("{{vigil.disk}}", "/x"), PARAMETERS))
                .hasMessageContaining("{{vigil.disk}}");
        assertThatThrownBy(
                        () -> DomainTemplate.check(TEMPLATE.replace("{{param.memory}}", "{{host.memory}}"), PARAMETERS))
                .hasMessageContaining("unknown placeholder {{host.memory}}");
        assertThatThrownBy(() -> DomainTemplate.check(
                        "<!DOCTYPE domain SYSTEM 'http://evil.example/x.dtd'>" + TEMPLATE, PARAMETERS))
                .hasMessageContaining("DOCTYPE");
        assertThatThrownBy(() -> DomainTemplate.check(
                        TEMPLATE.replace("<domain", "<dom").replace("</domain>", "</dom>"), PARAMETERS))
                .hasMessageContaining("not <domain>");
        assertThatThrownBy(() -> DomainTemplate.render(TEMPLATE, PARAMETERS, Map.of(), "p", "r", "../etc", "u"))
                .hasMessageContaining("VM name");
    }

    @Test
    void hostileValuesNeverBreakOutOfTheirPlace() throws Exception {
        Random random = new Random(1);
        String alphabet = "<>&'\"/=]]>!-[{}\\ \nabc";
        for (int i = 0; i < 2000; i++) {
            StringBuilder value = new StringBuilder();
            for (int j = random.nextInt(60); j > 0; j--) {
                value.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            DomainTemplate.Rendered rendered =
                    DomainTemplate.render(TEMPLATE, PARAMETERS, Map.of("note", value.toString()), "p", "r", "vm", "u");
            // The value is in the fw_cfg entry and nowhere else: the rendered domain's structure is the template's.
            assertThat(rendered.xml().split("<disk>", -1)).hasSize(2);
            assertThat(rendered.xml().split("<entry ", -1)).hasSize(2);
        }
    }

    private static DomainTemplate.Rendered render(Map<String, String> values) throws TemplateException {
        return DomainTemplate.render(TEMPLATE, PARAMETERS, values, "AcmeOS", "12.0", "acme", "u");
    }
}
