package dev.vigil.triage.uptime;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Ingestion's uptime ledger as a REST client, built by {@link UptimeClient} only when a URL is configured; there is
 * deliberately no injectable client without one.
 */
@Path("/api/v1/fleet/uptime")
interface UptimeApi extends AutoCloseable {

    /**
     * Ledger rows by UTC day (inclusive days, ISO dates); a null product is left out of the query, and a null
     * authorization sends no header. A {@link Response}
     * so the body arrives as a stream that the caller reads with a bound, never buffered whole by the client.
     */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    Response rows(
            @HeaderParam("Authorization") String authorization,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("release") String release,
            @QueryParam("product") String product);
}
