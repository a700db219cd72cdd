package dev.vigil.local;

import dev.vigil.cli.CliException;
import dev.vigil.cli.DispatchClient;
import dev.vigil.cli.ReleaseUpload;
import dev.vigil.devstack.IdentityProvider;
import dev.vigil.schemas.delivery.SigningKey;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dispatch in the local run: signing keys per role, made under the work directory on the first run and kept (the
 * repository's root names the keys, so they must outlive a restart); the demo users' tokens from the identity
 * provider, for curl; and a demo product with a published release and an open beta programme, so the enrolment page
 * has something to offer.
 */
final class LocalDispatch {

    static final String PRODUCT = "demo-os";
    static final String PROGRAM = "demo-beta";
    static final List<String> ROLES = List.of("root", "targets", "snapshot", "timestamp", "commands", "licenses");
    private static final String TEMPLATE = """
            <domain type='test'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>{{param.memoryMiB}}</memory>
              <vcpu>{{param.vcpus}}</vcpu>
              <os><type>hvm</type></os>
              <devices>
                <disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda'/></disk>
                <serial type='file'><source path='{{vigil.console}}'/></serial>
              </devices>
            </domain>
            """;

    private final Path keys;
    private final Path tokens;
    private final SigningKey commands;

    private LocalDispatch(Path keys, Path tokens, SigningKey commands) {
        this.keys = keys;
        this.tokens = tokens;
        this.commands = commands;
    }

    /** The keys under {@code workDir}, made when absent. */
    static LocalDispatch prepare(Path workDir) {
        Path keys = workDir.resolve("keys");
        try {
            Files.createDirectories(keys);
            SigningKey commands = null;
            for (String role : ROLES) {
                Path file = keys.resolve(role + ".pem");
                if (!Files.exists(file)) {
                    Files.writeString(file, SigningKey.generate().toPem());
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                }
                if (role.equals("commands")) {
                    commands = SigningKey.parse(Files.readString(file));
                }
            }
            return new LocalDispatch(keys, workDir.resolve("tokens"), commands);
        } catch (IOException e) {
            throw new UncheckedIOException("preparing dispatch's keys under " + keys, e);
        }
    }

    /** Writes each demo user's access token (12 hours, from the identity provider) to {@code tokens/<user>.jwt}. */
    void writeTokens(IdentityProvider identity) throws IOException {
        Files.createDirectories(tokens);
        for (String user : IdentityProvider.DEMO_USERS) {
            Path file = tokens.resolve(user + ".jwt");
            Files.writeString(file, identity.token(user) + "\n");
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }

    /** Dispatch's configuration: its keys, the identity provider it trusts, ingestion's inventory, its address. */
    Map<String, String> config(IdentityProvider identity, String ingestionUrl, String publicUrl) {
        Map<String, String> config = new LinkedHashMap<>();
        for (String role : ROLES) {
            config.put("vigil.dispatch.keys." + role, "file:" + keys.resolve(role + ".pem"));
        }
        config.putAll(identity.verification());
        config.put("vigil.dispatch.ingestion-url", ingestionUrl);
        config.put("vigil.dispatch.enrolment.public-url", publicUrl);
        return config;
    }

    /** What the local agent pins to take dispatch's commands ({@code VIGIL_AGENT_VENDOR_KEYS}). */
    String agentVendorKeys() {
        return commands.keyId() + "="
                + Base64.getEncoder().encodeToString(commands.publicKey().getEncoded());
    }

    /** Where the demo users' tokens are. */
    Path tokens() {
        return tokens;
    }

    /** The demo product, its release 1.0 (a 1 MiB disk) published to beta, and an open beta programme. */
    void seed(IdentityProvider identity, String baseUrl, Path workDir, PrintStream out)
            throws CliException, IOException {
        DispatchClient admin = new DispatchClient(baseUrl, identity.token("admin"));
        DispatchClient operator = new DispatchClient(baseUrl, identity.token("operator"));
        admin.post("/api/v1/products", Map.of("id", PRODUCT, "name", "Demo OS", "description", "a product to try"));
        DispatchClient.Reply release = operator.get("/api/v1/products/" + PRODUCT + "/releases/1.0");
        if (release.status() != 200
                || !"PUBLISHED".equals(release.body().path("state").asText())) {
            Path image = workDir.resolve("demo-os-1.0.raw");
            if (!Files.exists(image)) {
                Files.write(image, new byte[1 << 20]);
            }
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("release", "1.0");
            description.put("channel", "beta");
            description.put("domainTemplate", TEMPLATE);
            description.put(
                    "parameters",
                    List.of(
                            Map.of(
                                    "name",
                                    "memoryMiB",
                                    "kind",
                                    "INTEGER",
                                    "defaultValue",
                                    "512",
                                    "min",
                                    128,
                                    "max",
                                    4096,
                                    "description",
                                    "memory of the VM"),
                            Map.of(
                                    "name",
                                    "vcpus",
                                    "kind",
                                    "INTEGER",
                                    "defaultValue",
                                    "1",
                                    "min",
                                    1,
                                    "max",
                                    4,
                                    "description",
                                    "virtual CPUs")));
            description.put("notes", "The first beta of Demo OS.");
            new ReleaseUpload(operator, new PrintStream(PrintStream.nullOutputStream()))
                    .upload(PRODUCT, description, "raw", image, Duration.ofMinutes(1));
            operator.post("/api/v1/products/" + PRODUCT + "/releases/1.0/publish", Map.of());
            out.println("  published demo release " + PRODUCT + " 1.0 to beta");
        }
        admin.post(
                "/api/v1/programs",
                Map.of(
                        "id",
                        PROGRAM,
                        "product",
                        PRODUCT,
                        "channel",
                        "beta",
                        "title",
                        "Try Demo OS beta",
                        "description",
                        "Run Demo OS in a VM on your machine and tell us what breaks.",
                        "open",
                        true,
                        "licenseDays",
                        30,
                        "features",
                        List.of("beta")));
    }
}
