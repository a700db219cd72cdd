package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.cli.DispatchClient;
import dev.vigil.cli.ReleaseUpload;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A vendor's release engineering, as tests drive it: products, releases, uploads with the vigil command line. */
public final class Vendor {

    /** A domain template with every kind of placeholder, and a parameter of each kind. */
    public static final String TEMPLATE = """
            <domain type='test'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>{{param.memoryMiB}}</memory>
              <vcpu>{{param.vcpus}}</vcpu>
              <os><type>hvm</type></os>
              <description>{{param.firstBoot}}</description>
              <devices>
                <disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda'/></disk>
                <serial type='file'><source path='{{vigil.console}}'/></serial>
                <interface type='network'><source network='{{param.network}}'/></interface>
              </devices>
            </domain>
            """;

    public static final List<Map<String, Object>> PARAMETERS = List.of(
            Map.of("name", "memoryMiB", "kind", "INTEGER", "defaultValue", "1024", "min", 256, "max", 8192),
            Map.of("name", "vcpus", "kind", "INTEGER", "defaultValue", "2", "min", 1, "max", 8),
            Map.of(
                    "name",
                    "network",
                    "kind",
                    "CHOICE",
                    "defaultValue",
                    "default",
                    "choices",
                    List.of("default", "isolated")),
            Map.of("name", "firstBoot", "kind", "TEXT", "defaultValue", "", "maxLength", 4096));

    private Vendor() {}

    /** A new product with a fresh id. */
    public static String product() {
        String id = "Acme-" + UUID.randomUUID().toString().substring(0, 8);
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("id", id, "name", "Acme OS " + id, "description", "a test product"))
                .post("/api/v1/products")
                .then()
                .statusCode(201);
        return id;
    }

    /** The release's description as the upload creates it. */
    public static Map<String, Object> release(String version, String channel) {
        Map<String, Object> release = new LinkedHashMap<>();
        release.put("release", version);
        release.put("channel", channel);
        release.put("domainTemplate", TEMPLATE);
        release.put("parameters", PARAMETERS);
        release.put("notes", "Release notes of " + version);
        return release;
    }

    /** Uploads an image with the vigil command line as an operator; returns what it did and printed. */
    public static Upload upload(String product, String version, String format, Path image) throws Exception {
        return upload(product, release(version, "beta"), format, image);
    }

    /** Uploads a release as described with the vigil command line as an operator. */
    public static Upload upload(String product, Map<String, Object> release, String format, Path image)
            throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        DispatchClient client = new DispatchClient(
                "http://localhost:" + RestAssured.port, Staff.token("otto@vendor.example", "operator"));
        ReleaseUpload.Outcome outcome = new ReleaseUpload(
                        client, new PrintStream(printed, true, StandardCharsets.UTF_8))
                .upload(product, release, format, image, Duration.ofSeconds(60));
        return new Upload(outcome, printed.toString(StandardCharsets.UTF_8));
    }

    /** Uploads, expects the image verified, and publishes it. */
    public static void publish(String product, String version, Path image) throws Exception {
        publish(product, image, release(version, "beta"));
    }

    /** Uploads a release as described, expects the image verified, and publishes it. */
    public static void publish(String product, Path image, Map<String, Object> release) throws Exception {
        String version = (String) release.get("release");
        Upload upload = upload(product, release, "raw", image);
        assertThat(upload.outcome().state()).as(upload.printed()).isEqualTo("VERIFIED");
        Staff.operator()
                .post("/api/v1/products/" + product + "/releases/" + version + "/publish")
                .then()
                .statusCode(200);
    }

    /** An upload's outcome and its printed progress. */
    public record Upload(ReleaseUpload.Outcome outcome, String printed) {}
}
