package dev.vigil.triage.api;

import static io.restassured.RestAssured.given;

import io.restassured.specification.RequestSpecification;
import io.smallrye.jwt.build.Jwt;
import org.eclipse.microprofile.config.ConfigProvider;

/** Bearer tokens for tests, signed with {@link JwtKeys}' private key and triage's configured issuer. */
public final class Tokens {

    private Tokens() {}

    /** A request as an analyst named {@code name}. */
    public static RequestSpecification asAnalyst(String name) {
        return given().auth().oauth2(token(name, Roles.ANALYST));
    }

    /** A request as an admin named {@code name}. */
    public static RequestSpecification asAdmin(String name) {
        return given().auth().oauth2(token(name, Roles.ADMIN));
    }

    /** A request as an analyst. */
    public static RequestSpecification analyst() {
        return asAnalyst("ana@vendor.example");
    }

    /** A request as an admin. */
    public static RequestSpecification admin() {
        return asAdmin("ada@vendor.example");
    }

    public static String token(String name, String... roles) {
        return Jwt.issuer(ConfigProvider.getConfig().getValue("mp.jwt.verify.issuer", String.class))
                .upn(name)
                .groups(java.util.Set.of(roles))
                .expiresIn(3600)
                .sign();
    }
}
