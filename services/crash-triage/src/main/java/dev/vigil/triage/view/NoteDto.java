package dev.vigil.triage.view;

import dev.vigil.triage.bucket.CurationService;
import java.time.Instant;

/** A note or link as stored. */
public record NoteDto(long id, String kind, String text, String url, String author, Instant createdAt) {

    public static NoteDto of(CurationService.Note n) {
        return new NoteDto(n.id(), n.kind(), n.text(), n.url(), n.author(), n.createdAt());
    }
}
