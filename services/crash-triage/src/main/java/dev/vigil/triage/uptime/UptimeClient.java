package dev.vigil.triage.uptime;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.serviceauth.ServiceTokens;
import dev.vigil.triage.config.TriageConfig;
import io.quarkus.rest.client.reactive.QuarkusRestClientBuilder;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.faulttolerance.api.TypedGuard;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException;
import org.jboss.logging.Logger;

/**
 * VM-hours from ingestion's uptime ledger ({@code GET /api/v1/fleet/uptime}): the denominator of crash rates.
 * Without {@code vigil.triage.uptime-url}, or when ingestion does not answer in time, is known to be down (the
 * circuit breaker is open) or answers more than {@code vigil.triage.uptime.max-bytes}, there is no rate, never a
 * wrong one.
 */
@ApplicationScoped
public class UptimeClient {

    /** The breaker's name, for {@code CircuitBreakerMaintenance}. */
    static final String BREAKER = "uptime-ledger";

    private static final Logger LOG = Logger.getLogger(UptimeClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The breaker opens when at least this share of the questions it judges failed. */
    private static final double BREAKER_FAILURE_RATIO = 0.5;

    private final String baseUrl;
    private final UptimeApi api;
    private final TypedGuard<Double> guard;
    private final int maxBytes;
    private final ServiceTokens tokens;

    UptimeClient(TriageConfig config, ServiceTokens tokens) {
        this.tokens = tokens;
        TriageConfig.Uptime uptime = config.triage().uptime();
        this.baseUrl = config.triage()
                .uptimeUrl()
                .map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u)
                .orElse(null);
        this.api = baseUrl == null ? null : client(baseUrl, uptime);
        this.maxBytes = uptime.maxBytes();
        this.guard = TypedGuard.create(Double.class)
                .withTimeout()
                .duration(uptime.timeout().toMillis(), ChronoUnit.MILLIS)
                .done()
                .withCircuitBreaker()
                .name(BREAKER)
                .requestVolumeThreshold(uptime.breakerWindow())
                .failureRatio(BREAKER_FAILURE_RATIO)
                .delay(uptime.breakerDelay().toMillis(), ChronoUnit.MILLIS)
                .when(UptimeClient::ingestionFailed)
                .onStateChange(this::logBreaker)
                .done()
                .build();
    }

    /** VM-hours of a product's release over whole UTC days, or empty when unknown. */
    public Optional<Double> vmHours(String product, String release, LocalDate from, LocalDate to) {
        if (api == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(guard.call(() -> ask(product, release, from, to)));
        } catch (CircuitBreakerOpenException e) {
            // The breaker's opening was logged; one line per question while it is open would be noise.
            LOG.debugf("uptime of %s %s not asked: the breaker is open", product, release);
            return Optional.empty();
        } catch (TimeoutException e) {
            LOG.warnf("uptime of %s %s from %s: no answer within the timeout", product, release, baseUrl);
            return Optional.empty();
        } catch (Exception e) {
            LOG.warnf("uptime of %s %s from %s: %s", product, release, baseUrl, e.getMessage());
            return Optional.empty();
        }
    }

    @PreDestroy
    void close() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    private double ask(String product, String release, LocalDate from, LocalDate to) throws IOException {
        String authorization = tokens.authorization().orElse(null);
        try (Response response = api.rows(authorization, from.toString(), to.toString(), release, product)) {
            int status = response.getStatus();
            if (status == Response.Status.UNAUTHORIZED.getStatusCode()
                    || status == Response.Status.FORBIDDEN.getStatusCode()) {
                throw new Unanswered(
                        Reason.REFUSED,
                        "HTTP " + status + ": ingestion refused triage's service token (quarkus.oidc-client.*, or"
                                + " vigil.service-auth.token; its account needs the analyst role)");
            }
            if (status != Response.Status.OK.getStatusCode()) {
                // The body is not read: an error page may be as large as it likes.
                throw new Unanswered(status >= 500 ? Reason.SERVER_ERROR : Reason.REFUSED, "HTTP " + status);
            }
            if (response.getLength() > maxBytes) {
                throw new Unanswered(
                        Reason.OVERSIZED, "answer of " + response.getLength() + " bytes, over " + maxBytes);
            }
            return sum(new Bounded(response.readEntity(InputStream.class), maxBytes));
        }
    }

    /** The ledger's rows' VM-hours, row by row: the answer is never held whole. */
    private static double sum(InputStream body) throws IOException {
        try (JsonParser json = JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_ARRAY) {
                throw new Unanswered(Reason.MALFORMED, "not a JSON array");
            }
            double hours = 0;
            while (json.nextToken() == JsonToken.START_OBJECT) {
                JsonNode row = JSON.readTree(json);
                hours += row.path("vmHours").asDouble();
            }
            if (json.currentToken() != JsonToken.END_ARRAY) {
                throw new Unanswered(Reason.MALFORMED, "not an array of rows");
            }
            return hours;
        } catch (JsonProcessingException e) {
            throw new Unanswered(Reason.MALFORMED, e.getOriginalMessage());
        }
    }

    /** Whether a failure says ingestion is down or slow (the breaker counts it), not that its answer was refused. */
    private static boolean ingestionFailed(Throwable failure) {
        return !(failure instanceof Unanswered unanswered) || unanswered.reason == Reason.SERVER_ERROR;
    }

    private void logBreaker(CircuitBreakerState state) {
        switch (state) {
            case OPEN -> LOG.warnf("uptime ledger at %s failing: crash rates are left out while it is", baseUrl);
            case CLOSED -> LOG.infof("uptime ledger at %s answers again: crash rates are back", baseUrl);
            case HALF_OPEN -> LOG.debugf("uptime ledger at %s: trying it again", baseUrl);
        }
    }

    private static UptimeApi client(String url, TriageConfig.Uptime uptime) {
        try {
            return QuarkusRestClientBuilder.newBuilder()
                    .baseUri(URI.create(url))
                    .connectTimeout(uptime.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .readTimeout(uptime.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    // The default mapper buffers an error's whole body into memory to put it in an exception.
                    .disableDefaultMapper(true)
                    .build(UptimeApi.class);
        } catch (IllegalArgumentException | IllegalStateException e) {
            // As when ingestion does not answer: triage runs on, without rates.
            LOG.errorf(
                    "vigil.triage.uptime-url %s is not a URL triage can ask (%s): crash rates are left out",
                    url, e.getMessage());
            return null;
        }
    }

    /** Why an answer gave no VM-hours. */
    enum Reason {
        /** Ingestion failed (HTTP 5xx): counted by the breaker. */
        SERVER_ERROR,
        /** Any other status than 200: the question, not ingestion's health, is at fault. */
        REFUSED,
        /** Larger than {@code vigil.triage.uptime.max-bytes}. */
        OVERSIZED,
        /** Not the ledger's array of rows. */
        MALFORMED
    }

    /** An answer triage does not take. An {@link IOException} so it passes through the JSON parser unwrapped. */
    static final class Unanswered extends IOException {

        private final Reason reason;

        Unanswered(Reason reason, String detail) {
            super(reason + ": " + detail);
            this.reason = reason;
        }
    }

    /** The answer's bytes, refused past a limit. */
    private static final class Bounded extends FilterInputStream {

        private final long limit;
        private long read;

        Bounded(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count(skipped);
            return skipped;
        }

        private void count(long n) throws Unanswered {
            read += n;
            if (read > limit) {
                throw new Unanswered(Reason.OVERSIZED, "answer over " + limit + " bytes");
            }
        }
    }
}
