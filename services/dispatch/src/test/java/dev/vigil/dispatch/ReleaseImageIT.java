package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.cli.CliException;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Releases and their master images on the real stack: upload, resume, deltas, verification and refusals. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class ReleaseImageIT {

    @TempDir
    Path dir;

    @Test
    void productsNeedAnAdminAndAValidUniqueId() {
        String id = Vendor.product();
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("id", id, "name", "again"))
                .post("/api/v1/products")
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("title", equalTo("Product exists"));
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("id", "no spaces/please", "name", "x"))
                .post("/api/v1/products")
                .then()
                .statusCode(400)
                .body("detail", containsString("product id"));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("id", "by-operator", "name", "x"))
                .post("/api/v1/products")
                .then()
                .statusCode(403)
                .contentType("application/problem+json");
        assertThat(given().get("/api/v1/products")
                        .then()
                        .statusCode(401)
                        .body("title", equalTo("Not authenticated"))
                        .extract()
                        .headers()
                        .getValues("WWW-Authenticate"))
                .containsExactlyInAnyOrder("Bearer", "VigilHost");
        Staff.analyst().get("/api/v1/products/" + id).then().statusCode(200).body("name", containsString(id));
        Staff.analyst()
                .get("/api/v1/products/no-such")
                .then()
                .statusCode(404)
                .body("title", equalTo("Unknown product"));
    }

    @Test
    void aTemplateThatCannotMakeADomainIsRefusedWithTheReason() {
        String product = Vendor.product();
        refusedTemplate(product, Vendor.TEMPLATE.replace("{{vigil.disk}}", "/srv/disk.qcow2"), "{{vigil.disk}}");
        refusedTemplate(product, Vendor.TEMPLATE.replace("{{param.vcpus}}", "{{param.cores}}"), "param.cores");
        refusedTemplate(product, Vendor.TEMPLATE.replace("</domain>", ""), "not well-formed");
        refusedTemplate(
                product,
                Vendor.TEMPLATE.replace("<domain type='test'>", "<!DOCTYPE d [<!ENTITY x 'y'>]><domain>"),
                "DOCTYPE");
        Map<String, Object> release = Vendor.release("9.9", "beta");
        release.put(
                "parameters",
                List.of(Map.of("name", "vcpus", "kind", "INTEGER", "defaultValue", "64", "min", 1, "max", 8)));
        release.put(
                "domainTemplate",
                "<domain><devices><disk><source file='{{vigil.disk}}'/></disk></devices>"
                        + "<vcpu>{{param.vcpus}}</vcpu></domain>");
        Staff.operator()
                .contentType("application/json")
                .body(release)
                .post("/api/v1/products/" + product + "/releases")
                .then()
                .statusCode(422)
                .body("detail", containsString("vcpus must be 1-8"));
    }

    @Test
    void anUploadedImageIsVerifiedThenPublishedToItsChannel() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "a.raw", 1, 9 * 1024 * 1024);

        Vendor.Upload upload = Vendor.upload(product, "1.0", "raw", image);

        assertThat(upload.outcome().state()).as(upload.printed()).isEqualTo("VERIFIED");
        assertThat(upload.outcome().sent()).isEqualTo(upload.outcome().chunks()).isGreaterThan(2);
        assertThat(upload.outcome().sentBytes()).isEqualTo(Files.size(image));
        assertThat(upload.printed())
                .contains("created release")
                .contains("sent ")
                .contains("MiB/s");
        JsonPath release = Staff.analyst()
                .get("/api/v1/products/" + product + "/releases/1.0")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(release.getString("state")).isEqualTo("VERIFIED");
        assertThat(release.getLong("virtualSize")).isEqualTo(Files.size(image));
        assertThat(release.getLong("verification.verifiedBytes")).isEqualTo(Files.size(image));
        assertThat(release.getString("imageSha256")).isEqualTo(sha256(Files.readAllBytes(image)));

        Staff.analyst().post(releasePath(product, "1.0") + "/publish").then().statusCode(403);
        Staff.operator()
                .post(releasePath(product, "1.0") + "/publish")
                .then()
                .statusCode(200)
                .body("state", equalTo("PUBLISHED"))
                .body("publishedBy", equalTo("otto@vendor.example"));
        Staff.analyst().get("/api/v1/products/" + product).then().body("channels.beta", equalTo("1.0"));
        // A different image for a published release is a new release.
        Path other = Images.raw(dir, "b.raw", 2, 2 * 1024 * 1024);
        assertThatThrownBy(() -> Vendor.upload(product, "1.0", "raw", other))
                .isInstanceOf(CliException.class)
                .hasMessageContaining("Image is final");
    }

    @Test
    void anInterruptedUploadResumesWithTheChunksThatAreLeft() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "resume.raw", 3, 12 * 1024 * 1024);
        List<ImageChunker.Chunk> chunks;
        try (InputStream in = Files.newInputStream(image)) {
            chunks = ImageChunker.chunks(in);
        }
        // An earlier run declared the image and sent the first half of its chunks, then its connection dropped.
        assertThat(declare(product, "2.0", declaration(image, chunks)).getList("missing"))
                .hasSize(chunks.size());
        int half = chunks.size() / 2;
        send(image, chunks.subList(0, half));

        Vendor.Upload upload = Vendor.upload(product, "2.0", "raw", image);

        assertThat(upload.outcome().state()).as(upload.printed()).isEqualTo("VERIFIED");
        assertThat(upload.outcome().sent()).isEqualTo(chunks.size() - half);
        assertThat(upload.printed()).contains("dispatch has " + half + " of " + chunks.size() + " chunks");
    }

    @Test
    void aNewReleaseThatSharesBlocksSendsOnlyWhatChanged() throws Exception {
        String product = Vendor.product();
        Path first = Images.raw(dir, "v1.raw", 4, 16 * 1024 * 1024);
        byte[] bytes = Files.readAllBytes(first);
        Vendor.publish(product, "1.0", first);
        // 1.1: a 4 KiB block rewritten at 5 MiB, and 2 KiB inserted at 11 MiB (the rest shifts).
        int at = 11 * 1024 * 1024;
        byte[] inserted = new byte[2048];
        new Random(6).nextBytes(inserted);
        byte[] changed = new byte[bytes.length + inserted.length];
        System.arraycopy(bytes, 0, changed, 0, at);
        System.arraycopy(inserted, 0, changed, at, inserted.length);
        System.arraycopy(bytes, at, changed, at + inserted.length, bytes.length - at);
        byte[] rewritten = new byte[4096];
        new Random(7).nextBytes(rewritten);
        System.arraycopy(rewritten, 0, changed, 5 * 1024 * 1024, rewritten.length);
        Path second = dir.resolve("v1.1.raw");
        Files.write(second, changed);

        Vendor.Upload upload = Vendor.upload(product, "1.1", "raw", second);

        assertThat(upload.outcome().state()).as(upload.printed()).isEqualTo("VERIFIED");
        assertThat(upload.outcome().sent()).isBetween(2, 5);
        assertThat(upload.outcome().sentBytes()).isLessThan(changed.length / 3);
    }

    @Test
    void aChunkWhoseBytesDoNotMatchItsNameIsRefused() throws Exception {
        byte[] chunk = new byte[4096];
        new Random(8).nextBytes(chunk);
        String other = sha256(new byte[] {1});
        Staff.operator()
                .contentType("application/octet-stream")
                .body(chunk)
                .put("/api/v1/chunks/" + other)
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Chunk does not match its hash"))
                .body("detail", containsString(sha256(chunk)));
        byte[] huge = new byte[ImageChunker.MAX_SIZE + 1];
        Staff.operator()
                .contentType("application/octet-stream")
                .body(huge)
                .put("/api/v1/chunks/" + sha256(huge))
                .then()
                .statusCode(413);
        Staff.operator()
                .contentType("application/octet-stream")
                .body(chunk)
                .put("/api/v1/chunks/NOT-A-HASH")
                .then()
                .statusCode(400);
        Staff.analyst()
                .contentType("application/octet-stream")
                .body(chunk)
                .put("/api/v1/chunks/" + sha256(chunk))
                .then()
                .statusCode(403);
    }

    @Test
    void imagesThatAreNotWhatTheyClaimAreRejectedWithTheReasonAndNeverPublished() throws Exception {
        String product = Vendor.product();
        // Chunks that do not make the declared image.
        Path image = Images.raw(dir, "lie.raw", 9, 3 * 1024 * 1024);
        List<ImageChunker.Chunk> chunks;
        try (InputStream in = Files.newInputStream(image)) {
            chunks = ImageChunker.chunks(in);
        }
        Map<String, Object> lie = declaration(image, chunks);
        lie.put("sha256", sha256(new byte[] {2}));
        assertThat(rejection(product, "1.0", image, chunks, lie))
                .contains("SHA-256")
                .contains("do not make the declared");
        Staff.operator()
                .post(releasePath(product, "1.0") + "/publish")
                .then()
                .statusCode(409)
                .body("title", equalTo("Release not verified"));

        // A raw image that is not whole sectors (a copy cut short).
        Path partial = Images.raw(dir, "partial.raw", 10, 3 * 1024 * 1024 + 100);
        assertThat(Vendor.upload(product, "1.1", "raw", partial).outcome().rejection())
                .contains("512-byte sectors");

        // A qcow2 image whose tables point past its end (truncated), and one with a backing file.
        Path qcow = Images.qcow2(dir, "good.qcow2", 1L << 30, 11, 0, 300L << 20, 700L << 20);
        Path cut = Images.truncated(qcow, dir, "cut.qcow2", Files.size(qcow) - Images.CLUSTER);
        assertThat(Vendor.upload(product, "1.2", "qcow2", cut).outcome().rejection())
                .contains("truncated");
        Path backed = Images.truncated(qcow, dir, "backed.qcow2", Files.size(qcow));
        try (RandomAccessFile file = new RandomAccessFile(backed.toFile(), "rw")) {
            file.seek(8);
            file.writeLong(512);
        }
        assertThat(Vendor.upload(product, "1.3", "qcow2", backed).outcome().rejection())
                .contains("backing file");
        // A raw image declared as qcow2.
        assertThat(Vendor.upload(product, "1.4", "qcow2", image).outcome().rejection())
                .contains("not a qcow2 image");

        // The good qcow2 passes, with the disk size its header gives.
        Vendor.Upload good = Vendor.upload(product, "1.5", "qcow2", qcow);
        assertThat(good.outcome().state()).as(good.printed()).isEqualTo("VERIFIED");
        Staff.analyst().get(releasePath(product, "1.5")).then().body("virtualSize", equalTo(1 << 30));
    }

    @Test
    void aChunkAlteredInTheObjectStoreFailsVerification() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "altered.raw", 12, 3 * 1024 * 1024);
        List<ImageChunker.Chunk> chunks;
        try (InputStream in = Files.newInputStream(image)) {
            chunks = ImageChunker.chunks(in);
        }
        declare(product, "1.0", declaration(image, chunks));
        send(image, chunks);
        // Someone with access to the bucket replaces the second chunk.
        ImageChunker.Chunk victim = chunks.get(1);
        byte[] forged = Images.chunk(image, victim);
        forged[100] ^= 1;
        Images.storeChunk(victim, forged);

        Staff.operator()
                .post(releasePath(product, "1.0") + "/image/verify")
                .then()
                .statusCode(202);

        assertThat(awaitVerdict(product, "1.0").getString("rejection"))
                .contains("offset " + victim.offset())
                .contains("altered in the object store");
    }

    private String rejection(
            String product, String release, Path image, List<ImageChunker.Chunk> chunks, Map<String, Object> declared)
            throws Exception {
        declare(product, release, declared);
        send(image, chunks);
        Staff.operator()
                .post(releasePath(product, release) + "/image/verify")
                .then()
                .statusCode(202);
        JsonPath verdict = awaitVerdict(product, release);
        assertThat(verdict.getString("state")).isEqualTo("REJECTED");
        return verdict.getString("rejection");
    }

    /** Creates the release and declares its image as an upload would; returns dispatch's answer. */
    private static JsonPath declare(String product, String release, Map<String, Object> declaration) {
        Staff.operator()
                .contentType("application/json")
                .body(Vendor.release(release, "beta"))
                .post("/api/v1/products/" + product + "/releases")
                .then()
                .statusCode(201);
        return Staff.operator()
                .contentType("application/json")
                .body(declaration)
                .put(releasePath(product, release) + "/image")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    /** Uploads the chunks, each one new to dispatch. */
    private static void send(Path image, List<ImageChunker.Chunk> chunks) throws Exception {
        for (ImageChunker.Chunk chunk : chunks) {
            Staff.operator()
                    .contentType("application/octet-stream")
                    .body(Images.chunk(image, chunk))
                    .put("/api/v1/chunks/" + HexFormat.of().formatHex(chunk.sha256()))
                    .then()
                    .statusCode(201)
                    .body("stored", equalTo(true));
        }
    }

    private static JsonPath awaitVerdict(String product, String release) {
        return org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .until(
                        () -> Staff.analyst()
                                .get(releasePath(product, release))
                                .then()
                                .extract()
                                .jsonPath(),
                        j -> !"VERIFYING".equals(j.getString("state")));
    }

    static Map<String, Object> declaration(Path image, List<ImageChunker.Chunk> chunks) throws Exception {
        List<Map<String, Object>> declared = new ArrayList<>();
        for (ImageChunker.Chunk chunk : chunks) {
            declared.add(Map.of(
                    "offset", chunk.offset(),
                    "length", chunk.length(),
                    "sha256", HexFormat.of().formatHex(chunk.sha256())));
        }
        Map<String, Object> declaration = new java.util.LinkedHashMap<>();
        declaration.put("format", "raw");
        declaration.put("size", Files.size(image));
        declaration.put("sha256", sha256(Files.readAllBytes(image)));
        declaration.put(
                "chunking",
                Map.of(
                        "algorithm", ImageChunker.ALGORITHM,
                        "minSize", ImageChunker.MIN_SIZE,
                        "averageSize", ImageChunker.AVERAGE_SIZE,
                        "maxSize", ImageChunker.MAX_SIZE));
        declaration.put("chunks", declared);
        return declaration;
    }

    private static String releasePath(String product, String release) {
        return "/api/v1/products/" + product + "/releases/" + release;
    }

    private void refusedTemplate(String product, String template, String detail) {
        Map<String, Object> release = Vendor.release("0.1", "beta");
        release.put("domainTemplate", template);
        Staff.operator()
                .contentType("application/json")
                .body(release)
                .post("/api/v1/products/" + product + "/releases")
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Bad domain template"))
                .body("detail", containsString(detail));
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
