package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.delivery.DomainDefinition;
import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.ImageManifests;
import dev.vigil.schemas.delivery.MetaFile;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.MetadataProblem;
import dev.vigil.schemas.delivery.MetadataSignature;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.ParameterValue;
import dev.vigil.schemas.delivery.ReleaseTarget;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.SigningKey;
import dev.vigil.schemas.delivery.SnapshotMetadata;
import dev.vigil.schemas.delivery.TargetsMetadata;
import dev.vigil.schemas.delivery.TimestampMetadata;
import dev.vigil.schemas.delivery.TrustedMetadata;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.xml.sax.InputSource;

/**
 * The signed repository as an enrolled agent reads it: timestamp, snapshot and targets verified with
 * {@link TrustedMetadata} from the root its enrolment pinned, image manifests and chunks, rendered domain definitions,
 * and key rotation followed through new root versions.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class RepositoryIT {

    private static final String IMAGE_NAMESPACE = "urn:vigil:image:1";

    /** A product whose beta channel offers release 1.0, and its image (published once for the tests that read it). */
    private static String published;

    private static byte[] publishedImage;

    @Test
    void anEnrolledHostWalksTheRepositoryToItsReleaseAndDownloadsTheImage() throws Exception {
        String product = publishedProduct();
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.host(product, "beta", hostId);
        String hostToken = redeemed.getString("hostToken");
        TrustedMetadata trusted = Enrolments.trust(redeemed);

        TargetsMetadata targets = walk(trusted, hostToken, product);

        assertThat(targets.getProduct()).isEqualTo(product);
        ReleaseTarget head = trusted.channelHead(product, "beta");
        assertThat(head.getRelease()).isEqualTo("1.0").isEqualTo(redeemed.getString("release"));
        assertThat(head.getImageSha256()).isEqualTo(ReleaseImageIT.sha256(publishedImage));
        assertThat(head.getImageSize()).isEqualTo(publishedImage.length);
        assertThat(head.getNotes()).isEqualTo("Release notes of 1.0");
        assertThat(head.getParameters())
                .extracting(p -> p.getName())
                .containsExactly("memoryMiB", "vcpus", "network", "firstBoot");

        byte[] manifestBytes = document(hostToken, "images/" + product + "/1.0/manifest");
        ImageManifest manifest = trusted.verifyManifest(product, "1.0", manifestBytes);
        assertThat(manifest.getChunks()).hasSizeGreaterThan(1);
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        HttpClient http = HttpClient.newHttpClient();
        for (ImageChunk chunk : manifest.getChunks()) {
            String name = ImageManifests.hex(chunk.getSha256());
            Response redirect = Enrolments.asHost(hostToken)
                    .redirects()
                    .follow(false)
                    .get("/api/v1/agent/repository/chunks/" + name);
            assertThat(redirect.statusCode()).isEqualTo(307);
            String link = redirect.header("Location");
            assertThat(link).contains(ImageManifests.objectKey(name)).contains("X-Amz-Signature");
            // The agent downloads straight from the object store, without its host token.
            HttpResponse<byte[]> download = http.send(
                    HttpRequest.newBuilder(URI.create(link)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(download.statusCode()).isEqualTo(200);
            assertThat(download.body()).hasSize(chunk.getLength());
            assertThat(ReleaseImageIT.sha256(download.body())).isEqualTo(name);
            image.write(download.body());
        }
        assertThat(image.toByteArray()).isEqualTo(publishedImage);
        Enrolments.asHost(hostToken)
                .redirects()
                .follow(false)
                .get("/api/v1/agent/repository/chunks/" + "0".repeat(64))
                .then()
                .statusCode(404)
                .body("title", equalTo("Unknown chunk"));
    }

    @Test
    void aDomainDefinitionCarriesTheUsersParametersAndLeavesTheDiskToTheAgent() throws Exception {
        String product = publishedProduct();
        String hostId = "host-" + UUID.randomUUID();
        String token = Enrolments.enrol(
                Enrolments.program(product, "beta"),
                "Ada Lovelace",
                Map.of("memoryMiB", "2048", "network", "isolated"));
        JsonPath redeemed = Enrolments.redeem(token, hostId);
        String hostToken = redeemed.getString("hostToken");
        TrustedMetadata trusted = Enrolments.trust(redeemed);
        walk(trusted, hostToken, product);

        byte[] signed = Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("vmName", "web-1", "parameters", Map.of("vcpus", "4")))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(200)
                .extract()
                .asByteArray();

        DomainDefinition domain = trusted.verifyDomain(signed, hostId);
        assertThat(domain.getProduct()).isEqualTo(product);
        assertThat(domain.getRelease()).isEqualTo("1.0");
        assertThat(domain.getHostId()).isEqualTo(hostId);
        assertThat(domain.getVmName()).isEqualTo("web-1");
        assertThat(UUID.fromString(domain.getVmUuid())).isNotNull();
        assertThat(domain.getParameters())
                .extracting(ParameterValue::getName, ParameterValue::getValue)
                .containsExactly(
                        tuple("firstBoot", ""),
                        tuple("memoryMiB", "2048"),
                        tuple("network", "isolated"),
                        tuple("vcpus", "4"));
        Element xml = parse(domain.getDomainXml());
        assertThat(text(xml, "name")).isEqualTo("web-1");
        assertThat(text(xml, "uuid")).isEqualTo(domain.getVmUuid());
        assertThat(text(xml, "memory")).isEqualTo("2048");
        assertThat(text(xml, "vcpu")).isEqualTo("4");
        assertThat(attribute(xml, "disk", "source", "file")).isEqualTo("{{vigil.disk}}");
        assertThat(attribute(xml, "serial", "source", "path")).isEqualTo("{{vigil.console}}");
        assertThat(attribute(xml, "interface", "source", "network")).isEqualTo("isolated");
        Element image =
                (Element) xml.getElementsByTagNameNS(IMAGE_NAMESPACE, "image").item(0);
        assertThat(image).as(domain.getDomainXml()).isNotNull();
        assertThat(((Element) image.getParentNode()).getTagName()).isEqualTo("metadata");
        assertThat(image.getAttribute("product")).isEqualTo(product);
        assertThat(image.getAttribute("release")).isEqualTo("1.0");
        // An update of the installed VM keeps its UUID.
        byte[] update = Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("vmName", "web-1", "vmUuid", domain.getVmUuid()))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(200)
                .extract()
                .asByteArray();
        assertThat(trusted.verifyDomain(update, hostId).getVmUuid()).isEqualTo(domain.getVmUuid());
        // Signed for this host only.
        assertThatThrownBy(() -> trusted.verifyDomain(signed, "another-host"))
                .isInstanceOfSatisfying(
                        MetadataException.class, e -> assertThat(e.problem()).isEqualTo(MetadataProblem.WRONG_TARGET));

        Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("parameters", Map.of("vcpus", "64")))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Cannot render the domain"))
                .body("detail", equalTo("vcpus must be 1-8, got 64"));
        Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("parameters", Map.of("cores", "2")))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(422)
                .body("detail", containsString("no parameter cores"));
        Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("release", "9.9"))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(404)
                .body("title", equalTo("Unknown release"));
    }

    @Test
    void choicesALaterReleaseNoLongerTakesFallBackToItsDefaults() throws Exception {
        String product = Vendor.product();
        Path dir = Files.createTempDirectory("vigil-repository-it-");
        Vendor.publish(product, "1.0", Images.raw(dir, "1.0.raw", 41, 1 << 20));
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.redeem(
                Enrolments.enrol(
                        Enrolments.program(product, "beta"),
                        "Grace Hopper",
                        Map.of("memoryMiB", "4096", "network", "isolated")),
                hostId);
        // 1.1 drops the network choice and allows at most 2 GiB.
        Map<String, Object> release = Vendor.release("1.1", "beta");
        release.put("domainTemplate", Vendor.TEMPLATE.replace("{{param.network}}", "default"));
        release.put(
                "parameters",
                List.of(
                        Map.of("name", "memoryMiB", "kind", "INTEGER", "defaultValue", "1024", "min", 256, "max", 2048),
                        Map.of("name", "vcpus", "kind", "INTEGER", "defaultValue", "2", "min", 1, "max", 8),
                        Map.of("name", "firstBoot", "kind", "TEXT", "defaultValue", "", "maxLength", 4096)));
        Staff.operator()
                .contentType("application/json")
                .body(release)
                .post("/api/v1/products/" + product + "/releases")
                .then()
                .statusCode(201);
        Vendor.publish(product, "1.1", Images.raw(dir, "1.1.raw", 42, 1 << 20));

        byte[] signed = Enrolments.asHost(redeemed.getString("hostToken"))
                .contentType("application/json")
                .body(Map.of("release", "1.1"))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(200)
                .extract()
                .asByteArray();

        TrustedMetadata trusted = Enrolments.trust(redeemed);
        walk(trusted, redeemed.getString("hostToken"), product);
        DomainDefinition domain = trusted.verifyDomain(signed, hostId);
        assertThat(domain.getParameters())
                .extracting(ParameterValue::getName, ParameterValue::getValue)
                .containsExactly(tuple("firstBoot", ""), tuple("memoryMiB", "1024"), tuple("vcpus", "2"));
    }

    @Test
    void aHostReadsOnlyItsOwnProductAndOnlyWithItsHostToken() throws Exception {
        String other = publishedProduct();
        String product = Vendor.product();
        JsonPath redeemed = Enrolments.host(product, "beta", "host-" + UUID.randomUUID());
        String hostToken = redeemed.getString("hostToken");
        // The other product's documents exist: its own hosts read them.
        JsonPath otherHost = Enrolments.host(other, "beta", "host-" + UUID.randomUUID());
        TrustedMetadata otherTrust = Enrolments.trust(otherHost);
        long version = walk(otherTrust, otherHost.getString("hostToken"), other).getVersion();

        for (String path : List.of("targets/" + other + "/" + version, "images/" + other + "/1.0/manifest")) {
            Enrolments.asHost(hostToken)
                    .get("/api/v1/agent/repository/" + path)
                    .then()
                    .statusCode(404)
                    .contentType("application/problem+json")
                    .body("title", equalTo("Unknown product"));
        }
        Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of("release", "1.0"))
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(404);

        given().get("/api/v1/agent/repository/timestamp")
                .then()
                .statusCode(401)
                .contentType("application/problem+json");
        Enrolments.asHost("vgh_not-a-host-token")
                .get("/api/v1/agent/repository/root/1")
                .then()
                .statusCode(401);
        Staff.admin().get("/api/v1/agent/repository/timestamp").then().statusCode(403);
    }

    @Test
    void agentsFollowKeyRotationAndRefuseTargetsSignedByARetiredKey() throws Exception {
        String product = publishedProduct();
        String program = Enrolments.program(product, "beta");
        // Enrolled before the rotations, redeemed after them.
        String earlyToken = Enrolments.enrol(program, "Early Bird");
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.redeem(Enrolments.enrol(program, "Ada Lovelace"), hostId);
        String hostToken = redeemed.getString("hostToken");
        TrustedMetadata trusted = Enrolments.trust(redeemed);
        long start = trusted.root().getVersion();
        walk(trusted, hostToken, product);
        String spare = TestKeys.spareTargets.keyId();
        List<String> targetsKeys =
                targetsKeys(Staff.analyst().get("/api/v1/keys").then().extract().jsonPath());
        assertThat(targetsKeys).hasSize(2).contains(spare);
        String first =
                targetsKeys.stream().filter(k -> !k.equals(spare)).findFirst().orElseThrow();

        JsonPath second = rotateTargets(List.of(first));
        assertThat(second.getLong("version")).isEqualTo(start + 1);
        assertThat(targetsKeys(second)).containsExactly(first);
        RootMetadata root = trusted.updateRoot(document(hostToken, "root/" + (start + 1)));
        assertThat(root.getVersion()).isEqualTo(start + 1);
        byte[] signedByFirst = targetsBytes(trusted, hostToken, product);
        assertThat(signers(signedByFirst)).containsExactly(first);

        JsonPath third = rotateTargets(List.of(spare));
        assertThat(third.getLong("version")).isEqualTo(start + 2);
        assertThat(targetsKeys(third)).containsExactly(spare);
        trusted.updateRoot(document(hostToken, "root/" + (start + 2)));
        // No newer root: the agent's search for one ends here.
        Enrolments.asHost(hostToken)
                .get("/api/v1/agent/repository/root/" + (start + 3))
                .then()
                .statusCode(404)
                .body("title", equalTo("No such metadata"));

        assertThatThrownBy(() -> trusted.updateTargets(signedByFirst))
                .isInstanceOfSatisfying(
                        MetadataException.class, e -> assertThat(e.problem()).isEqualTo(MetadataProblem.UNKNOWN_KEY));
        byte[] signedBySpare = targetsBytes(trusted, hostToken, product);
        assertThat(signers(signedBySpare)).containsExactly(spare);
        trusted.updateTargets(signedBySpare);
        assertThat(trusted.channelHead(product, "beta").getRelease()).isEqualTo("1.0");
        // Domain definitions are signed by the new key too.
        byte[] domain = Enrolments.asHost(hostToken)
                .contentType("application/json")
                .body(Map.of())
                .post("/api/v1/agent/domains")
                .then()
                .statusCode(200)
                .extract()
                .asByteArray();
        assertThat(trusted.verifyDomain(domain, hostId).getRelease()).isEqualTo("1.0");

        // The token issued before the rotations pins the root of its day; the chain leads from there to the current.
        Matcher parts = Pattern.compile("ve1\\.[^.]+\\.(\\d+)\\.([0-9a-f]{32})").matcher(earlyToken);
        assertThat(parts.matches()).isTrue();
        String lateHost = "host-" + UUID.randomUUID();
        JsonPath late = Enrolments.redeem(earlyToken, lateHost);
        List<String> chain = late.getList("roots", String.class);
        assertThat(chain).hasSize(3);
        assertThat(ReleaseImageIT.sha256(Base64.getDecoder().decode(chain.get(0))))
                .startsWith(parts.group(2));
        TrustedMetadata lateTrust = Enrolments.trust(late);
        assertThat(lateTrust.root().getVersion()).isEqualTo(start + 2);
        assertThat(walk(lateTrust, late.getString("hostToken"), product).getProduct())
                .isEqualTo(product);
    }

    @Test
    void rotatingToAKeyDispatchDoesNotHoldIsRefused() {
        long before =
                Staff.analyst().get("/api/v1/keys").then().extract().jsonPath().getLong("version");
        String stranger = SigningKey.generate().keyId();

        Staff.admin()
                .contentType("application/json")
                .body(Map.of("role", "targets", "keyIds", List.of(stranger), "threshold", 1))
                .post("/api/v1/keys/rotate")
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Key not held"))
                .body("detail", containsString(stranger));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("role", "targets", "keyIds", List.of(TestKeys.spareTargets.keyId())))
                .post("/api/v1/keys/rotate")
                .then()
                .statusCode(403);
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("role", "targets", "keyIds", List.of(TestKeys.spareTargets.keyId()), "threshold", 2))
                .post("/api/v1/keys/rotate")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad rotation"));
        Staff.analyst().get("/api/v1/keys").then().body("version", equalTo((int) before));
    }

    /** The agent's update: the current timestamp, the snapshot it pins, and the product's targets that one pins. */
    private static TargetsMetadata walk(TrustedMetadata trusted, String hostToken, String product) throws Exception {
        return trusted.updateTargets(targetsBytes(trusted, hostToken, product));
    }

    /** The timestamp and snapshot taken, the bytes of the product's targets document the snapshot pins. */
    private static byte[] targetsBytes(TrustedMetadata trusted, String hostToken, String product) throws Exception {
        Response timestampResponse = Enrolments.asHost(hostToken).get("/api/v1/agent/repository/timestamp");
        assertThat(timestampResponse.statusCode()).isEqualTo(200);
        assertThat(timestampResponse.header("Cache-Control")).contains("no-store");
        TimestampMetadata timestamp = trusted.updateTimestamp(timestampResponse.asByteArray());
        SnapshotMetadata snapshot = trusted.updateSnapshot(
                document(hostToken, "snapshot/" + timestamp.getSnapshot().getVersion()));
        MetaFile pinned = snapshot.getTargets().stream()
                .filter(f -> f.getName().equals(product))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the snapshot pins no targets of " + product));
        return document(hostToken, "targets/" + product + "/" + pinned.getVersion());
    }

    private static byte[] document(String hostToken, String path) {
        return Enrolments.asHost(hostToken)
                .get("/api/v1/agent/repository/" + path)
                .then()
                .statusCode(200)
                .contentType("application/octet-stream")
                .extract()
                .asByteArray();
    }

    private static JsonPath rotateTargets(List<String> keyIds) {
        return Staff.admin()
                .contentType("application/json")
                .body(Map.of("role", "targets", "keyIds", keyIds, "threshold", 1))
                .post("/api/v1/keys/rotate")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private static List<String> targetsKeys(JsonPath root) {
        return root.getList("roles.find { it.role == 'TARGETS' }.keyIds", String.class);
    }

    private static List<String> signers(byte[] signed) throws MetadataException {
        return MetadataSigning.decodeSigned(signed).getSignatures().stream()
                .map(MetadataSignature::getKeyId)
                .toList();
    }

    private static Element parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document = factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        return document.getDocumentElement();
    }

    private static String text(Element domain, String name) {
        return domain.getElementsByTagName(name).item(0).getTextContent();
    }

    private static String attribute(Element domain, String device, String child, String attribute) {
        Element parent = (Element) domain.getElementsByTagName(device).item(0);
        return ((Element) parent.getElementsByTagName(child).item(0)).getAttribute(attribute);
    }

    private static synchronized String publishedProduct() throws Exception {
        if (published == null) {
            String product = Vendor.product();
            Path dir = Files.createTempDirectory("vigil-repository-it-");
            Path image = Images.raw(dir, "beta.raw", 31, 3 * 1024 * 1024);
            publishedImage = Files.readAllBytes(image);
            Vendor.publish(product, "1.0", image);
            Files.delete(image);
            Files.delete(dir);
            published = product;
        }
        return published;
    }
}
