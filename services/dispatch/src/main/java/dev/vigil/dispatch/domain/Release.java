package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.List;

/** A release of a product: its master image, the domain template and parameters, and where it stands. */
public record Release(
        String product,
        String version,
        String channel,
        ReleaseState state,
        String format,
        Long imageSize,
        String imageSha256,
        Long virtualSize,
        String manifestSha256,
        Integer manifestLength,
        Integer chunkCount,
        long verifiedBytes,
        String rejection,
        String domainTemplate,
        String templateSha256,
        List<TemplateParameter> parameters,
        String notes,
        String createdBy,
        Instant createdAt,
        Instant verifiedAt,
        String publishedBy,
        Instant publishedAt) {}
