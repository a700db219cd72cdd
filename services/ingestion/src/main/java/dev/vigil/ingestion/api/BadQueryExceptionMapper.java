package dev.vigil.ingestion.api;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** Answers out-of-range paging with a 400 problem body. */
@Provider
public class BadQueryExceptionMapper implements ExceptionMapper<BadQueryException> {

    @Override
    public Response toResponse(BadQueryException e) {
        return Response.status(Response.Status.BAD_REQUEST)
                .type(MediaType.APPLICATION_JSON)
                .entity(ProblemDto.of(400, "Bad paging", e.getMessage()))
                .build();
    }
}
