package dev.vigil.console.web;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import org.eclipse.microprofile.jwt.JsonWebToken;

/** The signed-in person as pages show them ({@code inject:viewer} in templates): name and what they may do. */
@Named("viewer")
@RequestScoped
public class Viewer {

    public static final String ANALYST = "analyst";
    public static final String ADMIN = "admin";

    @Inject
    SecurityIdentity identity;

    public String name() {
        if (identity.isAnonymous()) {
            return "";
        }
        if (identity.getPrincipal() instanceof JsonWebToken token) {
            String name = token.getClaim("name");
            if (name != null) {
                return name;
            }
            String email = token.getClaim("email");
            if (email != null) {
                return email;
            }
        }
        return identity.getPrincipal().getName();
    }

    public boolean admin() {
        return identity.hasRole(ADMIN);
    }

    public String roles() {
        return String.join(", ", identity.getRoles().stream().sorted().toList());
    }
}
