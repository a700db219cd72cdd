package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;

import io.restassured.specification.RequestSpecification;
import io.smallrye.jwt.build.Jwt;
import java.util.Set;
import org.eclipse.microprofile.config.ConfigProvider;

/** Requests as vendor staff, with bearer tokens signed by {@link TestKeys}' private key. */
public final class Staff {

    private Staff() {}

    public static RequestSpecification admin() {
        return as("ada@vendor.example", "admin");
    }

    public static RequestSpecification operator() {
        return as("otto@vendor.example", "operator");
    }

    public static RequestSpecification analyst() {
        return as("ana@vendor.example", "analyst");
    }

    public static RequestSpecification as(String name, String... roles) {
        return given().auth().oauth2(token(name, roles));
    }

    public static String token(String name, String... roles) {
        return Jwt.issuer(ConfigProvider.getConfig().getValue("mp.jwt.verify.issuer", String.class))
                .upn(name)
                .groups(Set.of(roles))
                .expiresIn(3600)
                .sign();
    }
}
