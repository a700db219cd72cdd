package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.schemas.KafkaAccess;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.jboss.logging.Logger;

/**
 * The enrolment CA: signs each enrolled host's Kafka client certificate from the host's PKCS#10 request (ADR 0007).
 * The certificate's subject is dispatch's choice, never the request's: {@code CN=vigil-agent} (the agents' Kafka
 * principal, so the brokers' ACLs stay per class), then the host and its tenant, so that the broker's logs name the
 * machine. It lives {@code vigil.dispatch.agent-certificates.validity}; agents ask for the next one with their lease
 * renewals, so a revoked host, whose token opens nothing, loses its broker access when its last certificate ends.
 */
@ApplicationScoped
public class AgentCertificates {

    /** What an agent gets: its certificate chain (PEM, its own first) and when the certificate ends. */
    public record Issued(String certificateChain, Instant notAfter, String serial, String subject) {}

    /** The longest request taken: a PEM request of a 4096-bit RSA key is under 2 KiB. */
    static final int MAX_REQUEST_CHARS = 16 * 1024;

    private static final Logger LOG = Logger.getLogger(AgentCertificates.class);
    private static final Duration BACKDATE = Duration.ofMinutes(5);

    private final Database db;
    private final MeterRegistry metrics;
    private final String tenant;
    private final Duration validity;
    private final PrivateKey caKey;
    private final List<X509Certificate> caChain;
    private final SecureRandom random = new SecureRandom();
    private final Clock clock = Clock.systemUTC();

    AgentCertificates(Database db, MeterRegistry metrics, DispatchConfig config) {
        this.db = db;
        this.metrics = metrics;
        this.tenant = config.dispatch().enrolment().tenant();
        DispatchConfig.AgentCertificates settings = config.dispatch().agentCertificates();
        this.validity = settings.validity();
        if (validity.compareTo(Duration.ofMinutes(10)) < 0) {
            throw new IllegalStateException(
                    "vigil.dispatch.agent-certificates.validity is " + validity + ": give agents at least PT10M");
        }
        if (settings.keystore().isEmpty()) {
            this.caKey = null;
            this.caChain = List.of();
            LOG.info("no enrolment CA (vigil.dispatch.agent-certificates.keystore): agents use the Kafka certificate"
                    + " their configuration names");
            return;
        }
        Path path = Path.of(settings.keystore().get());
        char[] password = settings.password().orElse("").toCharArray();
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            List<String> keys = new ArrayList<>();
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    keys.add(alias);
                }
            }
            if (keys.size() != 1) {
                throw new IllegalStateException("the enrolment CA key store " + path + " holds " + keys.size()
                        + " keys: it must hold exactly one, the CA's");
            }
            this.caKey = (PrivateKey) store.getKey(keys.get(0), password);
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate c : store.getCertificateChain(keys.get(0))) {
                chain.add((X509Certificate) c);
            }
            this.caChain = List.copyOf(chain);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(
                    "cannot read the enrolment CA key store " + path + ": " + e.getMessage(), e);
        }
        X509Certificate ca = caChain.get(0);
        if (ca.getBasicConstraints() < 0) {
            throw new IllegalStateException("the certificate in " + path + " (" + ca.getSubjectX500Principal()
                    + ") is not a CA's: the enrolment CA signs certificates, so it needs basicConstraints CA:true");
        }
        LOG.infof(
                "enrolment CA %s (valid until %s) issues agents' Kafka certificates for %s",
                ca.getSubjectX500Principal().getName(), ca.getNotAfter().toInstant(), validity);
    }

    /** Whether this dispatch has an enrolment CA. */
    public boolean enabled() {
        return caKey != null;
    }

    /**
     * Signs a client certificate for {@code hostId} with the key of {@code request} (a PEM {@code CERTIFICATE
     * REQUEST}, signed with that key) and notes it on the host.
     */
    public Issued issue(String hostId, String request) {
        if (!enabled()) {
            throw RefusedException.conflict(
                    "No enrolment CA",
                    "this dispatch issues no Kafka certificates (vigil.dispatch.agent-certificates.keystore is not"
                            + " set): the agent uses the certificate its configuration names");
        }
        PublicKey key = checkedKey(request);
        // Whole seconds: what a certificate can hold, so the answer and the host's row say the same.
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant caEnd = caChain.get(0).getNotAfter().toInstant();
        Instant notAfter = now.plus(validity).isAfter(caEnd) ? caEnd : now.plus(validity);
        BigInteger serial = new BigInteger(127, random);
        X500Name subject = X500Name.getInstance(subject(tenant, hostId).getEncoded());
        X509Certificate certificate;
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            certificate = new JcaX509CertificateConverter()
                    .getCertificate(new JcaX509v3CertificateBuilder(
                                    caChain.get(0),
                                    serial,
                                    Date.from(now.minus(BACKDATE)),
                                    Date.from(notAfter),
                                    subject,
                                    key)
                            .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                            .addExtension(
                                    Extension.keyUsage,
                                    true,
                                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                            .addExtension(
                                    Extension.extendedKeyUsage,
                                    false,
                                    new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
                            .addExtension(
                                    Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(key))
                            .addExtension(
                                    Extension.authorityKeyIdentifier,
                                    false,
                                    extensions.createAuthorityKeyIdentifier(caChain.get(0)))
                            .build(new JcaContentSignerBuilder(signatureAlgorithm(caKey)).build(caKey)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("the enrolment CA cannot sign: " + e.getMessage(), e);
        }
        String serialHex = serial.toString(16);
        if (!db.transaction(c -> HostRepository.certificateIssued(c, hostId, serialHex, notAfter))) {
            throw RefusedException.conflict("Host revoked", "host " + hostId + " was revoked");
        }
        metrics.counter("vigil.dispatch.agent.certificates.issued").increment();
        LOG.infof("issued Kafka certificate %s to host %s, valid until %s", serialHex, hostId, notAfter);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(certificate);
        chain.addAll(caChain);
        return new Issued(
                pem(chain),
                notAfter,
                serialHex,
                certificate.getSubjectX500Principal().getName());
    }

    /**
     * The subject of a host's certificate. Kafka names a client by {@link X500Principal#getName()}, which lists the
     * common name first here, so the brokers' rule {@code CN=([^,]+)...} maps every host to {@code vigil-agent}.
     */
    static X500Principal subject(String tenant, String hostId) {
        return new X500Principal(
                "CN=" + KafkaAccess.AGENT.principal() + ", OU=" + rdnValue(hostId) + ", O=" + rdnValue(tenant));
    }

    /** Host ids and tenants are plain names already; anything that could bend a distinguished name is refused. */
    private static String rdnValue(String value) {
        if (!value.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")) {
            throw RefusedException.unprocessable("Bad name", "'" + value + "' cannot name a certificate's subject");
        }
        return value;
    }

    /** The request's public key, once its signature proves the asker holds the private half. */
    static PublicKey checkedKey(String request) {
        if (request == null || request.isBlank()) {
            throw bad("send {csr}: a PEM CERTIFICATE REQUEST (PKCS#10) signed with the key the certificate is for");
        }
        if (request.length() > MAX_REQUEST_CHARS) {
            throw bad(
                    "the request is " + request.length() + " characters; at most " + MAX_REQUEST_CHARS + " are taken");
        }
        Object parsed;
        try (PEMParser parser = new PEMParser(new StringReader(request))) {
            parsed = parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw bad("it is not a PEM CERTIFICATE REQUEST: " + e.getMessage());
        }
        if (!(parsed instanceof org.bouncycastle.pkcs.PKCS10CertificationRequest csr)) {
            throw bad("it is not a PEM CERTIFICATE REQUEST"
                    + (parsed == null ? "" : " (it holds a " + parsed.getClass().getSimpleName() + ")"));
        }
        try {
            JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(csr);
            PublicKey key = jca.getPublicKey();
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw bad("its signature does not verify with its key: sign it with the key the certificate is for");
            }
            if (key instanceof ECPublicKey ec
                    && ec.getParams().getCurve().getField().getFieldSize() >= 256) {
                return key;
            }
            if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() >= 2048) {
                return key;
            }
            throw bad("its key is a " + key.getAlgorithm() + " key too weak for a client certificate: use EC P-256"
                    + " or stronger, or RSA of 2048 bits or more");
        } catch (GeneralSecurityException | OperatorCreationException | PKCSException | RuntimeException e) {
            if (e instanceof RefusedException refused) {
                throw refused;
            }
            throw bad("its key or signature cannot be read: " + e.getMessage());
        }
    }

    private static RefusedException bad(String detail) {
        return RefusedException.badRequest("Bad certificate request", detail);
    }

    private static String signatureAlgorithm(PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default ->
                throw new IllegalStateException(
                        "the enrolment CA's key is " + key.getAlgorithm() + ": use an EC or RSA key");
        };
    }

    private static String pem(List<X509Certificate> chain) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate c : chain) {
                writer.writeObject(c);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write PEM: " + e.getMessage(), e);
        }
        return text.toString();
    }
}
