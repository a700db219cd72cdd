package dev.vigil.local;

import dev.vigil.cli.CliException;
import dev.vigil.cli.DispatchClient;
import dev.vigil.cli.ReleaseUpload;
import dev.vigil.devstack.DispatchEnrolment;
import dev.vigil.devstack.DispatchKeys;
import dev.vigil.devstack.IdentityProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
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

    private final DispatchKeys keys;
    private final Path tokens;

    private LocalDispatch(DispatchKeys keys, Path tokens) {
        this.keys = keys;
        this.tokens = tokens;
    }

    /** The keys under {@code workDir}, made when absent. */
    static LocalDispatch prepare(Path workDir) {
        return new LocalDispatch(DispatchKeys.under(workDir.resolve("keys")), workDir.resolve("tokens"));
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

    /** Dispatch's configuration (see {@link DispatchKeys#config}). */
    Map<String, String> config(IdentityProvider identity, String ingestionUrl, String publicUrl, String triageUrl) {
        return keys.config(identity, ingestionUrl, publicUrl, triageUrl);
    }

    /** What the local agent pins to take dispatch's commands ({@code VIGIL_AGENT_VENDOR_KEYS}). */
    String agentVendorKeys() {
        return keys.agentVendorKeys();
    }

    /**
     * An enrolment token for the demo programme, as a person gets it from its page ({@code /enrol/demo-beta}): the
     * local agent redeems it as {@code vigil-agent enroll} would.
     */
    static String enrolmentToken(String baseUrl) throws IOException {
        return DispatchEnrolment.token(baseUrl, PROGRAM, "Local Host", "local.host@example.com");
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
