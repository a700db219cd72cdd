package dev.vigil.serviceauth;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityRequirement;

/**
 * Documents what every secured operation answers to a caller it does not let in: 401 without valid credentials, 403
 * when their roles do not allow it, each a problem ({@code application/problem+json}). Registered in each service with
 * {@code mp.openapi.filter=dev.vigil.serviceauth.AccessResponses}.
 */
public class AccessResponses implements OASFilter {

    private static final String PROBLEM = "application/problem+json";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() == null || openAPI.getPaths().getPathItems() == null) {
            return;
        }
        List<SecurityRequirement> global = openAPI.getSecurity();
        openAPI.getPaths().getPathItems().values().forEach(item -> {
            if (item.getOperations() == null) {
                return;
            }
            for (Operation operation : item.getOperations().values()) {
                List<SecurityRequirement> security = operation.getSecurity() != null ? operation.getSecurity() : global;
                if (security == null
                        || security.isEmpty()
                        || security.stream()
                                .allMatch(r ->
                                        r.getSchemes() == null || r.getSchemes().isEmpty())) {
                    continue;
                }
                APIResponses responses =
                        operation.getResponses() == null ? OASFactory.createAPIResponses() : operation.getResponses();
                add(responses, "401", "No credentials, or credentials that are not valid (unknown, forged, expired)");
                add(responses, "403", "The credentials are valid, but their roles do not allow this operation");
                operation.setResponses(responses);
            }
        });
    }

    private static void add(APIResponses responses, String status, String description) {
        APIResponse response = responses.getAPIResponse(status);
        if (response == null) {
            responses.addAPIResponse(
                    status,
                    OASFactory.createAPIResponse().description(description).content(problem()));
        } else if (response.getContent() == null) {
            response.setContent(problem());
        } else if (response.getContent().getMediaType(PROBLEM) == null) {
            response.getContent().addMediaType(PROBLEM, problem().getMediaType(PROBLEM));
        }
    }

    private static Content problem() {
        Schema text = OASFactory.createSchema().addType(Schema.SchemaType.STRING);
        Schema schema = OASFactory.createSchema()
                .addType(Schema.SchemaType.OBJECT)
                .description("An RFC 9457 problem")
                .properties(Map.of(
                        "type", text,
                        "title", text,
                        "status", OASFactory.createSchema().addType(Schema.SchemaType.INTEGER),
                        "detail", text));
        return OASFactory.createContent()
                .addMediaType(
                        "application/problem+json", OASFactory.createMediaType().schema(schema));
    }
}
