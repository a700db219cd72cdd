package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.TemplateParameter;
import java.time.Instant;
import java.util.List;

/** A release as the API shows it: its state, image, verification progress or rejection, and template. */
public record ReleaseDto(
        String product,
        String release,
        String channel,
        String state,
        String format,
        Long imageSize,
        String imageSha256,
        Long virtualSize,
        Integer chunks,
        Verification verification,
        String rejection,
        String templateSha256,
        List<TemplateParameter> parameters,
        String notes,
        String createdBy,
        Instant createdAt,
        Instant verifiedAt,
        String publishedBy,
        Instant publishedAt) {

    /** How far the image's verification read. */
    public record Verification(long verifiedBytes, Long imageBytes) {}

    static ReleaseDto of(Release r) {
        return new ReleaseDto(
                r.product(),
                r.version(),
                r.channel(),
                r.state().name(),
                r.format(),
                r.imageSize(),
                r.imageSha256(),
                r.virtualSize(),
                r.chunkCount(),
                new Verification(r.verifiedBytes(), r.imageSize()),
                r.rejection(),
                r.templateSha256(),
                r.parameters(),
                r.notes(),
                r.createdBy(),
                r.createdAt(),
                r.verifiedAt(),
                r.publishedBy(),
                r.publishedAt());
    }
}
