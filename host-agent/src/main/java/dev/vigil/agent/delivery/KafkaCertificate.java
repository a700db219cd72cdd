package dev.vigil.agent.delivery;

import dev.vigil.agent.config.AgentConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * This host's Kafka client certificate from dispatch's enrolment CA (ADR 0007): asked for at enrolment with a key
 * made here (the key never leaves the host; dispatch sees a PKCS#10 request), and again with a new key once half its
 * life has passed. Kept in {@link AgentConfig#enrolmentKeystore()}, which the agent's Kafka clients use when its
 * configuration names no key store of its own.
 */
public final class KafkaCertificate {

    /** When a kept certificate is valid: from, until. */
    public record Validity(Instant notBefore, Instant notAfter) {

        /** Whether half of its life has passed at {@code now}, or it is over: time to ask for the next one. */
        public boolean due(Instant now) {
            Duration life = Duration.between(notBefore, notAfter);
            return !now.isBefore(notBefore.plus(life.dividedBy(2)));
        }
    }

    private static final String ALIAS = "vigil-agent";

    private KafkaCertificate() {}

    /** The kept certificate's validity, or null when this host holds none (or it cannot be read). */
    public static Validity kept(AgentConfig config) {
        Path store = config.enrolmentKeystore();
        if (!Files.exists(store)) {
            return null;
        }
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, config.enrolmentKeystorePassword().toCharArray());
            X509Certificate leaf = (X509Certificate) keys.getCertificate(ALIAS);
            return leaf == null
                    ? null
                    : new Validity(
                            leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Asks dispatch for a certificate for a new key and keeps both; returns the new certificate's validity, or null
     * when this dispatch has no enrolment CA (the agent then needs a key store in its configuration).
     */
    public static Validity request(AgentConfig config, DispatchConnection dispatch) throws DeliveryException {
        KeyPair pair;
        String csr;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            pair = generator.generateKeyPair();
            StringWriter text = new StringWriter();
            try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
                // Dispatch names the certificate's subject itself; the request only proves the key is held here.
                pem.writeObject(
                        new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=vigil-agent"), pair.getPublic())
                                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            }
            csr = text.toString();
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot make a key and its certificate request: " + e.getMessage(), e);
        }
        DispatchConnection.Answer answer = dispatch.postJson("/api/v1/agent/kafka-certificate", Map.of("csr", csr));
        if (answer.status() == 409 && answer.problem().startsWith("No enrolment CA")) {
            return null;
        }
        if (answer.status() != 200) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "dispatch issued no Kafka certificate: " + answer.problem());
        }
        List<X509Certificate> chain =
                chain(answer.json().path("certificateChain").asText());
        X509Certificate leaf = chain.get(0);
        if (!Arrays.equals(leaf.getPublicKey().getEncoded(), pair.getPublic().getEncoded())) {
            throw new DeliveryException(
                    DeliveryException.Kind.UNTRUSTED,
                    "dispatch answered a certificate for another key than this host's request: it is not kept");
        }
        keep(config, pair, chain);
        return new Validity(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
    }

    private static List<X509Certificate> chain(String pem) throws DeliveryException {
        try {
            List<X509Certificate> chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                    .stream()
                    .map(X509Certificate.class::cast)
                    .toList();
            if (chain.isEmpty()) {
                throw new DeliveryException(
                        DeliveryException.Kind.REFUSED, "dispatch's answer holds no certificate chain");
            }
            return chain;
        } catch (GeneralSecurityException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "dispatch's certificate chain cannot be read: " + e.getMessage());
        }
    }

    /** Writes the key and chain to a new key store and moves it over the old one, owner-readable only. */
    private static void keep(AgentConfig config, KeyPair pair, List<X509Certificate> chain) throws DeliveryException {
        Path store = config.enrolmentKeystore();
        try {
            Files.createDirectories(store.getParent());
            Path passwordFile = store.resolveSibling("kafka-client.password");
            if (!Files.exists(passwordFile)) {
                byte[] secret = new byte[16];
                new SecureRandom().nextBytes(secret);
                Path partial = Files.createTempFile(
                        store.getParent(),
                        "kafka-client.password",
                        ".partial",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(partial, HexFormat.of().formatHex(secret));
                Files.move(partial, passwordFile, StandardCopyOption.ATOMIC_MOVE);
            }
            char[] password = config.enrolmentKeystorePassword().toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry(ALIAS, pair.getPrivate(), password, chain.toArray(new Certificate[0]));
            Path partial = Files.createTempFile(
                    store.getParent(),
                    "kafka-client.p12",
                    ".partial",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (OutputStream out = Files.newOutputStream(partial)) {
                keys.store(out, password);
            }
            Files.move(partial, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | GeneralSecurityException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot keep the Kafka certificate in " + store + ": " + e.getMessage(),
                    e);
        }
    }
}
