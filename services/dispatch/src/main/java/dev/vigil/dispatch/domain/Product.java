package dev.vigil.dispatch.domain;

import java.time.Instant;

/** A vendor's product, delivered to users as releases of its master image. */
public record Product(String id, String name, String description, String createdBy, Instant createdAt) {}
