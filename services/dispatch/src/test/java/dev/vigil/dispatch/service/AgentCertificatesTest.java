package dev.vigil.dispatch.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

/** The enrolment CA's reading of requests and naming of hosts, and the fuzz seeds' validity. */
class AgentCertificatesTest {

    private static final Path SEEDS = Path.of(
            "src/test/resources/dev/vigil/dispatch/service/CertificateRequestFuzzTestInputs/checksOrRefusesWithAReason");

    @Test
    void theCommonNameComesFirstInTheNameKafkaMaps() {
        // Kafka applies its rule RULE:^CN=([^,]+)(,.*)?$/$1/ to X500Principal.getName().
        String name = AgentCertificates.subject("acme", "host-7").getName();
        assertThat(name).isEqualTo("CN=vigil-agent,OU=host-7,O=acme");
        assertThat(name.replaceAll("^CN=([^,]+)(,.*)?$", "$1")).isEqualTo("vigil-agent");
    }

    @Test
    void aNameThatCouldBendTheSubjectIsRefused() {
        assertThatThrownBy(() -> AgentCertificates.subject("acme", "a,CN=vigil-ingestion"))
                .isInstanceOf(RefusedException.class)
                .hasMessageContaining("cannot name a certificate's subject");
        assertThatThrownBy(() -> AgentCertificates.subject("acme+O=x", "h")).isInstanceOf(RefusedException.class);
    }

    @Test
    void theSeedsAreRequestsTheCaTakes() throws Exception {
        try (var seeds = Files.list(SEEDS)) {
            for (Path seed : seeds.toList()) {
                assertThat(AgentCertificates.checkedKey(Files.readString(seed, StandardCharsets.UTF_8)))
                        .as(seed.toString())
                        .isNotNull();
            }
        }
    }

    @Test
    void aRequestSignedByAnotherKeyIsRefused() throws Exception {
        KeyPair key = ec();
        String forged = pem(key, ec());
        assertThatThrownBy(() -> AgentCertificates.checkedKey(forged))
                .isInstanceOf(RefusedException.class)
                .hasMessageContaining("does not verify");
        assertThat(AgentCertificates.checkedKey(pem(key, key))).isEqualTo(key.getPublic());
    }

    private static KeyPair ec() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static String pem(KeyPair key, KeyPair signer) throws Exception {
        String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            pem.writeObject(new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=seed"), key.getPublic())
                    .build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
        }
        return text.toString();
    }
}
