package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.LicenseTerms;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.TrustedMetadata;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Beta enrolment as a person sees its pages and an agent its redemption, on the real stack. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class EnrolmentIT {

    private static final Pattern TOKEN = Pattern.compile("ve1\\.([A-Za-z0-9_-]{43})\\.(\\d+)\\.([0-9a-f]{32})");

    /** A product whose beta channel offers release 1.0 (published once, for the tests that need a release). */
    private static String published;

    @Test
    void thePublicPageListsOpenProgrammesOnly() {
        String product = Vendor.product();
        String open = Enrolments.program(product, "beta");
        String closed = closedProgram(product, "Vendor staff preview of " + product, "staff-only-2026");

        String page = given().get("/enrol")
                .then()
                .statusCode(200)
                .contentType(containsString("text/html"))
                .extract()
                .asString();

        assertThat(page)
                .contains("<h1>Beta programmes</h1>")
                .contains("Try " + product)
                .contains("The beta of " + product)
                .contains("30-day license &middot; beta, telemetry")
                .contains("href=\"/enrol/" + open + "\"")
                .doesNotContain("Vendor staff preview of " + product)
                .doesNotContain("/enrol/" + closed + "\"");
        // The closed programme's own page is reachable for those who were sent its link.
        given().get("/enrol/" + closed)
                .then()
                .statusCode(200)
                .body(containsString("Vendor staff preview of " + product))
                .body(containsString("Invitation code"));
        given().get("/enrol/no-such-programme").then().statusCode(404);
    }

    @Test
    void theFormOffersTheReleaseParametersWithTheirDefaults() throws Exception {
        String program = Enrolments.program(publishedProduct(), "beta");

        String page = given().get("/enrol/" + program)
                .then()
                .statusCode(200)
                .extract()
                .asString();

        assertThat(page).contains("<h1>Try " + publishedProduct() + "</h1>").doesNotContain("Invitation code");
        assertThat(inputValue(page, "param.memoryMiB")).isEqualTo("1024");
        assertThat(inputValue(page, "param.vcpus")).isEqualTo("2");
        assertThat(page).contains("(256-8192)").contains("(1-8)");
        assertThat(options(page, "param.network")).containsExactly("default", "isolated");
        assertThat(selected(page, "param.network")).isEqualTo("default");
        assertThat(textarea(page, "param.firstBoot")).isEmpty();
        assertThat(inputValue(page, "name")).isEmpty();
        assertThat(page).doesNotContain("role=\"alert\"");
    }

    @Test
    void aBadEmailReRendersTheFormWithTheReasonAndWhatWasTyped() throws Exception {
        String program = Enrolments.program(publishedProduct(), "beta");

        Response response = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", "Grace Hopper")
                .formParam("email", "grace-at-example.com")
                .formParam("param.vcpus", "4")
                .post("/enrol/" + program);

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.contentType()).startsWith("text/html");
        String page = response.asString();
        assertThat(alert(page)).isEqualTo("Bad enrolment: give an email address such as ada@example.com");
        assertThat(inputValue(page, "name")).isEqualTo("Grace Hopper");
        assertThat(inputValue(page, "email")).isEqualTo("grace-at-example.com");
        assertThat(inputValue(page, "param.vcpus")).isEqualTo("4");
        assertThat(inputValue(page, "param.memoryMiB")).isEqualTo("1024");
        assertThat(page).doesNotContain("vigil-agent enroll");
    }

    @Test
    void anOutOfRangeParameterReRendersTheFormWithTheReasonAndWhatWasTyped() throws Exception {
        String program = Enrolments.program(publishedProduct(), "beta");

        Response response = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", "Grace Hopper")
                .formParam("email", "grace@example.com")
                .formParam("param.memoryMiB", "99999")
                .formParam("param.network", "isolated")
                .formParam("param.firstBoot", "#cloud-config\nhostname: <grace>")
                .post("/enrol/" + program);

        assertThat(response.statusCode()).isEqualTo(400);
        String page = response.asString();
        assertThat(alert(page)).isEqualTo("Bad memoryMiB: memoryMiB must be 256-8192, got 99999");
        assertThat(inputValue(page, "param.memoryMiB")).isEqualTo("99999");
        assertThat(selected(page, "param.network")).isEqualTo("isolated");
        assertThat(textarea(page, "param.firstBoot")).isEqualTo("#cloud-config\nhostname: <grace>");
        assertThat(inputValue(page, "name")).isEqualTo("Grace Hopper");
        assertThat(inputValue(page, "email")).isEqualTo("grace@example.com");
        assertThat(page).doesNotContain("vigil-agent enroll");
    }

    @Test
    void aClosedProgrammeRefusesAWrongInvitationCode() {
        String product = Vendor.product();
        String program = closedProgram(product, "Invited preview of " + product, "open-sesame-2026");

        Response wrong = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", "Mallory")
                .formParam("email", "mallory@example.com")
                .formParam("invitation", "guess-guess-guess")
                .post("/enrol/" + program);

        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(alert(wrong.asString()))
                .isEqualTo("Bad invitation code: this programme needs the invitation code you were sent");
        // The code is typed again, never echoed back.
        assertThat(inputValue(wrong.asString(), "invitation")).isEmpty();
        assertThat(inputValue(wrong.asString(), "name")).isEqualTo("Mallory");
        assertThat(wrong.asString()).doesNotContain("guess-guess-guess").doesNotContain("vigil-agent enroll");

        // The code as it was sent, even pasted with the spaces around it.
        String page = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", "Alice")
                .formParam("email", "alice@example.com")
                .formParam("invitation", "  open-sesame-2026 ")
                .post("/enrol/" + program)
                .then()
                .statusCode(200)
                .extract()
                .asString();
        assertThat(TOKEN.matcher(page).find()).as(page).isTrue();
    }

    @Test
    void anUnknownProgrammeIsAPageSayingSo() {
        Response missing = given().get("/enrol/no-such-programme");

        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.contentType()).startsWith("text/html");
        assertThat(missing.asString()).contains("No such programme").contains("no-such-programme");
        assertThat(given().contentType("application/x-www-form-urlencoded")
                        .formParam("name", "Eve")
                        .post("/enrol/no-such-programme")
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void aGoodEnrolmentShowsItsTokenOnce() {
        String product = Vendor.product();
        String program = Enrolments.program(product, "beta");

        String page = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", "Ada Lovelace")
                .formParam("email", "ada@example.com")
                .post("/enrol/" + program)
                .then()
                .statusCode(200)
                .contentType(containsString("text/html"))
                .extract()
                .asString();

        Matcher command = Pattern.compile("<pre id=\"command\">vigil-agent enroll (\\S+)</pre>")
                .matcher(page);
        assertThat(command.find()).as(page).isTrue();
        String token = command.group(1);
        assertThat(token).matches(TOKEN);
        assertThat(page)
                .contains("You are enrolled in Try " + product)
                .contains("The token works once")
                .contains("This page is the only place it is shown")
                .contains("http://localhost:" + RestAssured.port)
                .contains("(30 days)");
        // The token is not kept anywhere it could be shown again: not the form, not the programme's API.
        given().get("/enrol/" + program).then().statusCode(200).body(org.hamcrest.Matchers.not(containsString(token)));
        Staff.admin()
                .get("/api/v1/programs/" + program)
                .then()
                .statusCode(200)
                .body(org.hamcrest.Matchers.not(containsString(token)));
        // A second enrolment gets another token.
        assertThat(Enrolments.enrol(program, "Ada Lovelace")).isNotEqualTo(token);
    }

    @Test
    void redeemingGivesTheHostTokenTheChannelHeadTheRootChainAndALicense() throws Exception {
        String product = publishedProduct();
        String program = Enrolments.program(product, "beta");
        String token = Enrolments.enrol(program, "Ada Lovelace", Map.of("memoryMiB", "2048", "network", "isolated"));
        String hostId = "host-" + UUID.randomUUID();
        Instant before = Instant.now();

        JsonPath redeemed = Enrolments.redeem(token, hostId);

        assertThat(redeemed.getString("hostId")).isEqualTo(hostId);
        assertThat(redeemed.getString("hostToken")).startsWith("vgh_").hasSizeGreaterThan(40);
        assertThat(redeemed.getString("product")).isEqualTo(product);
        assertThat(redeemed.getString("channel")).isEqualTo("beta");
        assertThat(redeemed.getString("release")).isEqualTo("1.0");
        assertThat(redeemed.getMap("parameters", String.class, String.class))
                .isEqualTo(Map.of("memoryMiB", "2048", "network", "isolated"));

        // The agent pins the first root of the chain by the token's version and hash prefix, then follows the rest.
        Matcher parts = TOKEN.matcher(token);
        assertThat(parts.matches()).isTrue();
        List<byte[]> roots = redeemed.getList("roots", String.class).stream()
                .map(Base64.getDecoder()::decode)
                .toList();
        assertThat(roots).isNotEmpty();
        assertThat(sha256(roots.get(0))).startsWith(parts.group(3));
        TrustedMetadata trusted = TrustedMetadata.pin(roots.get(0), Clock.systemUTC());
        assertThat(trusted.root().getVersion()).isEqualTo(Long.parseLong(parts.group(2)));
        for (byte[] root : roots.subList(1, roots.size())) {
            trusted.updateRoot(root);
        }
        RootMetadata current = trusted.root();
        assertThat(current.getVersion())
                .isEqualTo(Staff.analyst()
                        .get("/api/v1/keys")
                        .then()
                        .extract()
                        .jsonPath()
                        .getLong("version"));

        License license = trusted.verifyLicense(Base64.getDecoder().decode(redeemed.getString("license")), hostId);
        assertThat(license.getProduct()).isEqualTo(product);
        assertThat(license.getHostId()).isEqualTo(hostId);
        assertThat(license.getFeatures()).containsExactly("beta", "telemetry");
        assertThat(license.getSequence()).isEqualTo(1);
        assertThat(license.getEnrolmentId()).isNotNull();
        assertThat(license.getValidUntil()).isCloseTo(before.plus(Duration.ofDays(30)), within(1, ChronoUnit.MINUTES));
        assertThat(LicenseTerms.standing(license, Instant.now())).isEqualTo(LicenseTerms.Standing.ACTIVE);

        // The host's record key: this tenant's, for this host, from the secret ingestion checks seals with.
        assertThat(redeemed.getString("recordKey.tenant")).isEqualTo("acme");
        assertThat(redeemed.getInt("recordKey.epoch")).isEqualTo(1);
        assertThat(Base64.getDecoder().decode(redeemed.getString("recordKey.key")))
                .isEqualTo(Devstack.shared()
                        .endpoints()
                        .recordKeys()
                        .hostKey("acme", hostId)
                        .key())
                .isNotEqualTo(Devstack.shared()
                        .endpoints()
                        .recordKeys()
                        .hostKey("acme", hostId + "x")
                        .key());
    }

    @Test
    void aTokenIsRedeemedOnceAndOnlyWhileItIsValid() throws Exception {
        String program = Enrolments.program(Vendor.product(), "beta");
        String token = Enrolments.enrol(program, "Ada Lovelace");
        Enrolments.redeem(token, "host-" + UUID.randomUUID());

        refusedRedemption(token, 409, "Enrolment token already used", "each token enrols one machine");
        refusedRedemption("ve1.not-a-token", 400, "Malformed enrolment token", "copy it whole");
        refusedRedemption(
                "ve1." + "A".repeat(43) + ".1." + "0".repeat(32),
                404,
                "Unknown enrolment token",
                "enrol again on the programme's page");

        String expiring = Enrolments.enrol(program, "Grace Hopper");
        Matcher parts = TOKEN.matcher(expiring);
        assertThat(parts.matches()).isTrue();
        Endpoints endpoints = Devstack.shared().endpoints();
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s = c.prepareStatement("UPDATE dispatch.enrolment"
                        + " SET token_expires_at = now() - interval '1 minute' WHERE token_sha256 = ?")) {
            s.setString(1, sha256(parts.group(1).getBytes(StandardCharsets.UTF_8)));
            assertThat(s.executeUpdate()).isEqualTo(1);
        }
        refusedRedemption(expiring, 410, "Enrolment token expired", "enrol again for a new one");
    }

    @Test
    void aTokenCopiedWithAnotherRootIsRefusedAndNotUsedUp() throws Exception {
        String program = Enrolments.program(Vendor.product(), "beta");
        String token = Enrolments.enrol(program, "Ada Lovelace");
        Matcher parts = TOKEN.matcher(token);
        assertThat(parts.matches()).isTrue();
        String secret = parts.group(1);
        long version = Long.parseLong(parts.group(2));
        String prefix = parts.group(3);
        String otherPrefix = (prefix.charAt(0) == '0' ? "1" : "0") + prefix.substring(1);

        refusedRedemption(
                "ve1." + secret + "." + (version + 1) + "." + prefix,
                400,
                "Malformed enrolment token",
                "copy it whole");
        refusedRedemption(
                "ve1." + secret + "." + version + "." + otherPrefix, 400, "Malformed enrolment token", "copy it whole");

        // The token as it was issued still enrols, with the root it pins first in the chain.
        JsonPath redeemed = Enrolments.redeem(token, "host-" + UUID.randomUUID());
        byte[] first = Base64.getDecoder()
                .decode(redeemed.getList("roots", String.class).get(0));
        assertThat(sha256(first)).startsWith(prefix);
    }

    @Test
    void theHostTokenOpensTheAgentApiAndNothingElseDoes() {
        String hostId = "host-" + UUID.randomUUID();
        String product = Vendor.product();
        JsonPath redeemed = Enrolments.host(product, "beta", hostId);

        Enrolments.asHost(redeemed.getString("hostToken"))
                .get("/api/v1/agent/licenses")
                .then()
                .statusCode(200)
                .body("size()", equalTo(1))
                .body("[0].product", equalTo(product));
        Enrolments.asHost("vgh_" + "B".repeat(43))
                .get("/api/v1/agent/licenses")
                .then()
                .statusCode(401)
                .contentType("application/problem+json")
                .body("title", equalTo("Not authenticated"));
        given().get("/api/v1/agent/licenses").then().statusCode(401);
        // Vendor staff are not agents: a bearer JWT does not read an agent's licenses.
        Staff.admin().get("/api/v1/agent/licenses").then().statusCode(403);
    }

    private static void refusedRedemption(String token, int status, String title, String detail) {
        given().contentType("application/json")
                .body(Map.of("token", token, "hostId", "host-" + UUID.randomUUID(), "agentVersion", "test"))
                .post("/api/v1/enrolments/redeem")
                .then()
                .statusCode(status)
                .contentType("application/problem+json")
                .body("title", equalTo(title))
                .body("detail", containsString(detail));
    }

    private static String closedProgram(String product, String title, String invitationCode) {
        String id = "closed-" + UUID.randomUUID().toString().substring(0, 8);
        Staff.admin()
                .contentType("application/json")
                .body(Map.of(
                        "id",
                        id,
                        "product",
                        product,
                        "channel",
                        "beta",
                        "title",
                        title,
                        "description",
                        "By invitation",
                        "open",
                        false,
                        "invitationCode",
                        invitationCode))
                .post("/api/v1/programs")
                .then()
                .statusCode(201)
                .body("open", equalTo(false));
        return id;
    }

    private static synchronized String publishedProduct() throws Exception {
        if (published == null) {
            String product = Vendor.product();
            Path dir = Files.createTempDirectory("vigil-enrolment-it-");
            Path image = Images.raw(dir, "beta.raw", 21, 2 * 1024 * 1024);
            Vendor.publish(product, "1.0", image);
            Files.delete(image);
            Files.delete(dir);
            published = product;
        }
        return published;
    }

    /** The text of the page's alert, tags removed. */
    private static String alert(String page) {
        Matcher m = Pattern.compile("<p class=\"card error\" role=\"alert\">(.*?)</p>", Pattern.DOTALL)
                .matcher(page);
        assertThat(m.find()).as("the page shows no refusal:\n" + page).isTrue();
        return unescape(m.group(1).replaceAll("<[^>]+>", ""));
    }

    private static String inputValue(String page, String name) {
        Matcher m = Pattern.compile("<input[^>]*\\bname=\"" + Pattern.quote(name) + "\"[^>]*>")
                .matcher(page);
        assertThat(m.find()).as("no input " + name + " in:\n" + page).isTrue();
        Matcher value = Pattern.compile("\\bvalue=\"([^\"]*)\"").matcher(m.group());
        return value.find() ? unescape(value.group(1)) : "";
    }

    private static List<String> options(String page, String name) {
        return Pattern.compile("<option[^>]*>([^<]*)</option>")
                .matcher(select(page, name))
                .results()
                .map(r -> unescape(r.group(1)))
                .toList();
    }

    private static String selected(String page, String name) {
        Matcher m = Pattern.compile("<option selected>([^<]*)</option>").matcher(select(page, name));
        assertThat(m.find()).as("nothing selected in " + name).isTrue();
        return unescape(m.group(1));
    }

    private static String select(String page, String name) {
        Matcher m = Pattern.compile(
                        "<select[^>]*\\bname=\"" + Pattern.quote(name) + "\"[^>]*>(.*?)</select>", Pattern.DOTALL)
                .matcher(page);
        assertThat(m.find()).as("no select " + name + " in:\n" + page).isTrue();
        return m.group(1);
    }

    private static String textarea(String page, String name) {
        Matcher m = Pattern.compile(
                        "<textarea[^>]*\\bname=\"" + Pattern.quote(name) + "\"[^>]*>(.*?)</textarea>", Pattern.DOTALL)
                .matcher(page);
        assertThat(m.find()).as("no textarea " + name + " in:\n" + page).isTrue();
        return unescape(m.group(1));
    }

    private static String unescape(String html) {
        return html.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&");
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
