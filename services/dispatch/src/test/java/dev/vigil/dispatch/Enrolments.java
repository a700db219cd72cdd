package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;

import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.TrustedMetadata;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Beta enrolment as users and agents do it: the programme's page, then the agent's redemption of the token. */
public final class Enrolments {

    private static final Pattern TOKEN = Pattern.compile("vigil-agent enroll (ve1\\.[A-Za-z0-9_.-]+)");

    private Enrolments() {}

    /** An open programme on {@code product}'s channel; returns its id. */
    public static String program(String product, String channel) {
        String id = "beta-" + UUID.randomUUID().toString().substring(0, 8);
        Staff.admin()
                .contentType("application/json")
                .body(Map.of(
                        "id",
                        id,
                        "product",
                        product,
                        "channel",
                        channel,
                        "title",
                        "Try " + product,
                        "description",
                        "The " + channel + " of " + product,
                        "open",
                        true,
                        "licenseDays",
                        30,
                        "features",
                        List.of("beta", "telemetry")))
                .post("/api/v1/programs")
                .then()
                .statusCode(201);
        return id;
    }

    /** Enrols through the programme's page as a person would; returns the token the page shows. */
    public static String enrol(String program, String name) {
        return enrol(program, name, Map.of());
    }

    /** Enrols with VM settings, as the form's {@code param.<name>} fields send them; returns the token. */
    public static String enrol(String program, String name, Map<String, String> parameters) {
        RequestSpecification form = given().contentType("application/x-www-form-urlencoded")
                .formParam("name", name)
                .formParam("email", name.toLowerCase(Locale.ROOT).replace(' ', '.') + "@example.com");
        parameters.forEach((key, value) -> form.formParam("param." + key, value));
        String page =
                form.post("/enrol/" + program).then().statusCode(200).extract().asString();
        Matcher matcher = TOKEN.matcher(page);
        if (!matcher.find()) {
            throw new AssertionError("the enrolment page shows no token:\n" + page);
        }
        return matcher.group(1);
    }

    /** The agent on host {@code hostId} redeems a token; returns dispatch's answer. */
    public static JsonPath redeem(String token, String hostId) {
        return given().contentType("application/json")
                .body(Map.of("token", token, "hostId", hostId, "agentVersion", "test"))
                .post("/api/v1/enrolments/redeem")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    /** A host enrolled in a new programme on the channel; returns its redemption (host token in {@code hostToken}). */
    public static JsonPath host(String product, String channel, String hostId) {
        return redeem(enrol(program(product, channel), "Ada Lovelace"), hostId);
    }

    /** The host token of a host enrolled in a new programme on {@code product}'s beta channel. */
    public static String hostToken(String hostId) {
        return host(Vendor.product(), "beta", hostId).getString("hostToken");
    }

    /** A request as the agent of a host, with its host token. */
    public static RequestSpecification asHost(String hostToken) {
        return given().header("Authorization", "VigilHost " + hostToken);
    }

    /** What the agent trusts after a redemption: the first root of the chain pinned, then each newer one. */
    public static TrustedMetadata trust(JsonPath redemption) throws MetadataException {
        List<byte[]> roots = redemption.getList("roots", String.class).stream()
                .map(Base64.getDecoder()::decode)
                .toList();
        TrustedMetadata trusted = TrustedMetadata.pin(roots.get(0), Clock.systemUTC());
        for (byte[] root : roots.subList(1, roots.size())) {
            trusted.updateRoot(root);
        }
        return trusted;
    }
}
