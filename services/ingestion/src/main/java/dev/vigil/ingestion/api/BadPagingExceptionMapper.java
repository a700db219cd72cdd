package dev.vigil.ingestion.api;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** Answers out-of-range paging with a 400 problem body. */
@Provider
public class BadPagingExceptionMapper implements ExceptionMapper<BadPagingException> {

    @Override
    public Response toResponse(BadPagingException e) {
        return Response.status(Response.Status.BAD_REQUEST)
                .type(MediaType.APPLICATION_JSON)
                .entity(ProblemDto.of(400, "Bad paging", e.getMessage()))
                .build();
    }
}
