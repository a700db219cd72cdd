package dev.vigil.dispatch.security;

import io.quarkus.security.identity.request.BaseAuthenticationRequest;

/** An agent's host token, presented as {@code Authorization: VigilHost <token>}. */
final class HostTokenRequest extends BaseAuthenticationRequest {

    private final String token;

    HostTokenRequest(String token) {
        this.token = token;
    }

    String token() {
        return token;
    }
}
