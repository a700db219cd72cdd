package dev.vigil.devstack;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A host's enrolment token, as a person gets it from a beta programme's page on dispatch ({@code /enrol/<program>});
 * an agent redeems it as {@code vigil-agent enroll} does. For the local run and tests that enrol real agents.
 */
public final class DispatchEnrolment {

    private static final Pattern TOKEN = Pattern.compile("vigil-agent enroll (ve1\\.[A-Za-z0-9_.-]+)");

    private DispatchEnrolment() {}

    /** Fills in the programme's form with a name and an email and returns the token the page shows. */
    public static String token(String dispatchUrl, String program, String name, String email) throws IOException {
        String form = "name=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "&email="
                + URLEncoder.encode(email, StandardCharsets.UTF_8);
        HttpResponse<String> page;
        try {
            page = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(dispatchUrl + "/enrol/" + program))
                                    .timeout(Duration.ofSeconds(30))
                                    .header("Content-Type", "application/x-www-form-urlencoded")
                                    .POST(HttpRequest.BodyPublishers.ofString(form))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while enrolling in " + program);
        }
        Matcher token = TOKEN.matcher(page.body());
        if (page.statusCode() != 200 || !token.find()) {
            throw new IOException(
                    "programme " + program + "'s page gave no enrolment token (HTTP " + page.statusCode() + "): "
                            + page.body()
                                    .replaceAll("<[^>]*>", " ")
                                    .replaceAll("\\s+", " ")
                                    .strip());
        }
        return token.group(1);
    }
}
