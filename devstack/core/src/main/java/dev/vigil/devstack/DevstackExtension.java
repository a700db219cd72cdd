package dev.vigil.devstack;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 face of the devstack: {@code @ExtendWith(DevstackExtension.class)} starts the JVM's shared stack before
 * the class and injects {@link Devstack} or {@link Endpoints} parameters.
 */
public final class DevstackExtension implements BeforeAllCallback, ParameterResolver {

    @Override
    public void beforeAll(ExtensionContext context) {
        Devstack.shared();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Devstack.class || type == Endpoints.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Devstack stack = Devstack.shared();
        return parameter.getParameter().getType() == Devstack.class ? stack : stack.endpoints();
    }
}
