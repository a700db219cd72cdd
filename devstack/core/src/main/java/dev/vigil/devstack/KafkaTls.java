package dev.vigil.devstack;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The stack's Kafka PKI: a certificate authority made for this stack, the broker's certificate, and a client
 * certificate per principal, each in a PKCS#12 key store under {@code <work dir>/kafka-tls}. The broker trusts only
 * this CA and requires a client certificate (mTLS); a principal is the certificate's common name. A kept work dir
 * keeps its CA, so the local run's agents and services stay trusted across restarts.
 */
public final class KafkaTls {

    /** The broker itself (inter-broker and controller traffic): a super user. */
    static final String BROKER = "vigil-broker";

    /** The stack's operator (topic and ACL set-up, test fixtures that play any part): a super user. */
    public static final String ADMIN = "vigil-admin";

    private static final String STORE_TYPE = "PKCS12";
    private static final Duration VALIDITY = Duration.ofDays(825);

    private final Path dir;
    private final char[] password;
    private final PrivateKey caKey;
    private final X509Certificate caCert;

    private KafkaTls(Path dir, char[] password, PrivateKey caKey, X509Certificate caCert) {
        this.dir = dir;
        this.password = password;
        this.caKey = caKey;
        this.caCert = caCert;
    }

    /** The PKI under {@code dir}: loaded if a previous run made it, otherwise a new CA. */
    static KafkaTls open(Path dir) {
        try {
            Files.createDirectories(dir);
            Path passwordFile = dir.resolve("password");
            Path caStore = dir.resolve("ca.p12");
            if (Files.exists(passwordFile) && Files.exists(caStore)) {
                char[] password = Files.readString(passwordFile).trim().toCharArray();
                KeyStore store = load(caStore, password);
                return new KafkaTls(dir, password, (PrivateKey) store.getKey("ca", password), (X509Certificate)
                        store.getCertificate("ca"));
            }
            byte[] secret = new byte[16];
            new SecureRandom().nextBytes(secret);
            char[] password = HexFormat.of().formatHex(secret).toCharArray();
            KeyPair ca = keyPair();
            X509Certificate caCert = sign(
                    new JcaX509v3CertificateBuilder(
                                    name("vigil-devstack-ca"),
                                    serial(),
                                    Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                                    Date.from(Instant.now().plus(VALIDITY)),
                                    name("vigil-devstack-ca"),
                                    ca.getPublic())
                            .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                            .addExtension(
                                    Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)),
                    ca.getPrivate());
            KeyStore store = KeyStore.getInstance(STORE_TYPE);
            store.load(null, null);
            store.setKeyEntry("ca", ca.getPrivate(), password, new Certificate[] {caCert});
            save(store, caStore, password);
            KeyStore trust = KeyStore.getInstance(STORE_TYPE);
            trust.load(null, null);
            trust.setCertificateEntry("vigil-devstack-ca", caCert);
            save(trust, dir.resolve("truststore.p12"), password);
            Files.writeString(passwordFile, new String(password), StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            return new KafkaTls(dir, password, ca.getPrivate(), caCert);
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new DevstackException("cannot set up the Kafka certificate authority in " + dir + ": " + e, e);
        }
    }

    /** The store that holds the CA's certificate: what every client and the broker trust. */
    public Path truststore() {
        return dir.resolve("truststore.p12");
    }

    /** The password of every store of this stack (a fresh random one per stack, in {@code kafka-tls/password}). */
    public String password() {
        return new String(password);
    }

    /**
     * The key store of {@code principal}: its certificate (common name {@code principal}, signed by this CA) and key,
     * issued on first use.
     */
    public synchronized Path keystore(String principal) {
        return issued(
                principal,
                principal + ".p12",
                "a Kafka client certificate",
                key -> new JcaX509v3CertificateBuilder(
                                caCert,
                                serial(),
                                Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                                Date.from(Instant.now().plus(VALIDITY)),
                                name(principal),
                                key)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(
                                Extension.keyUsage,
                                true,
                                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                            KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                        }))
                        // The broker listens on loopback; clients verify its address like any TLS client would.
                        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                            new GeneralName(GeneralName.dNSName, "localhost")
                        })));
    }

    /**
     * The key store of an issuing CA under this stack's CA, made on first use: dispatch's enrolment CA, which signs
     * enrolled hosts' client certificates. The broker trusts them through this stack's CA; its key entry holds the
     * issuing CA's key and the chain up to that CA.
     */
    public synchronized Path issuingCa(String name) {
        return issued(
                name,
                name + "-ca.p12",
                "an issuing CA",
                key -> new JcaX509v3CertificateBuilder(
                                caCert,
                                serial(),
                                Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                                caCert.getNotAfter(),
                                name(name),
                                key)
                        // Signs end entities only.
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)));
    }

    /** What a certificate of this CA says about a new key. */
    @FunctionalInterface
    private interface Template {
        X509v3CertificateBuilder forKey(PublicKey key) throws IOException;
    }

    /**
     * The key store {@code file} with a new key, under alias {@code name}, and the certificate {@code template} makes
     * for it, signed by this CA; made once, then found.
     */
    private Path issued(String name, String file, String what, Template template) {
        if (!name.matches("[a-z0-9][a-z0-9.-]{0,62}")) {
            throw new IllegalArgumentException("not a name for " + what + ": " + name);
        }
        Path store = dir.resolve(file);
        if (Files.exists(store)) {
            return store;
        }
        try {
            KeyPair pair = keyPair();
            X509Certificate cert = sign(template.forKey(pair.getPublic()), caKey);
            KeyStore keyStore = KeyStore.getInstance(STORE_TYPE);
            keyStore.load(null, null);
            keyStore.setKeyEntry(name, pair.getPrivate(), password, new Certificate[] {cert, caCert});
            Path partial = dir.resolve(file + ".partial");
            save(keyStore, partial, password);
            Files.move(partial, store, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return store;
        } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
            throw new DevstackException("cannot issue " + what + " for " + name + ": " + e, e);
        }
    }

    /** Kafka client settings (producer, consumer, admin) that connect as {@code principal}. */
    public Map<String, String> clientProperties(String principal) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", "SSL");
        props.put("ssl.keystore.type", STORE_TYPE);
        props.put("ssl.keystore.location", keystore(principal).toString());
        props.put("ssl.keystore.password", password());
        props.put("ssl.key.password", password());
        props.putAll(trustProperties());
        return props;
    }

    /** TLS settings that trust the broker and name no client certificate (a client that brings its own). */
    public Map<String, String> trustProperties() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", "SSL");
        props.put("ssl.truststore.type", STORE_TYPE);
        props.put("ssl.truststore.location", truststore().toString());
        props.put("ssl.truststore.password", password());
        return props;
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private static X500Name name(String commonName) {
        return new X500Name("CN=" + commonName);
    }

    private static BigInteger serial() {
        return new BigInteger(127, new SecureRandom());
    }

    private static KeyStore load(Path path, char[] password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(STORE_TYPE);
        try (var in = Files.newInputStream(path)) {
            store.load(in, password);
        }
        return store;
    }

    private static void save(KeyStore store, Path path, char[] password) throws IOException, GeneralSecurityException {
        try (OutputStream out = Files.newOutputStream(path)) {
            store.store(out, password);
        }
    }
}
