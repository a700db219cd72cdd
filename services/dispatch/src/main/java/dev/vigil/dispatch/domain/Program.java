package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.List;

/**
 * A beta programme: users enrol in a product's channel and get a license of {@code licenseDays} with
 * {@code features}. An open programme takes anyone; another needs its invitation code.
 */
public record Program(
        String id,
        String product,
        String channel,
        String title,
        String description,
        boolean open,
        String invitationSha256,
        int licenseDays,
        List<String> features,
        String createdBy,
        Instant createdAt) {}
