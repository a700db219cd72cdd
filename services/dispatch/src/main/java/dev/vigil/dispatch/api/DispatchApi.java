package dev.vigil.dispatch.api;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/**
 * Dispatch's API as the OpenAPI document describes it: vendor staff's bearer JWTs ({@code jwt}, configured) and
 * agents' host tokens ({@code host}).
 */
@OpenAPIDefinition(
        info = @Info(title = "Vigil dispatch API", version = "1"),
        components =
                @Components(
                        securitySchemes = {
                            @SecurityScheme(
                                    securitySchemeName = "jwt",
                                    type = SecuritySchemeType.HTTP,
                                    scheme = "bearer",
                                    bearerFormat = "JWT",
                                    description = "A bearer JWT of vendor staff from the identity provider; its groups"
                                            + " carry the roles analyst, operator, admin"),
                            @SecurityScheme(
                                    securitySchemeName = "host",
                                    type = SecuritySchemeType.HTTP,
                                    scheme = "VigilHost",
                                    description = "The host token an agent's enrolment gave it:"
                                            + " Authorization: VigilHost <token>")
                        }))
public class DispatchApi extends Application {}
