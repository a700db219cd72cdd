package dev.vigil.agent.capture;

import java.util.List;

/**
 * An artifact captured and staged on this host, waiting for its upload; written beside the blob as JSON so an
 * agent restart resumes where the last one stopped.
 *
 * @param incidentId the triggering event's id (for a feedback's screenshot, the feedback's event id)
 * @param kind an {@code ArtifactKind} name
 * @param format the blob's format (png, kdump-compressed, text/plain, ...)
 * @param partial true when the capture was cut short and the blob is what it got
 * @param capturePlan every kind this incident's capture staged
 * @param vmUuid the VM
 * @param vmName its name
 * @param product the product its image declares, or null
 * @param release the release its image declares, or null
 * @param capturedAtMillis when the trigger happened
 * @param announcedBy what tells the vendor where the stored object is (a ticket written before it was named is an
 *     incident's: {@link Announcement#MANIFEST})
 */
public record StagedArtifact(
        String incidentId,
        String kind,
        String format,
        boolean partial,
        List<String> capturePlan,
        String vmUuid,
        String vmName,
        String product,
        String release,
        long capturedAtMillis,
        Announcement announcedBy) {

    /** What names a stored object's key to the vendor. */
    public enum Announcement {
        /** The uploader spools an {@code ArtifactManifest} for the incident once the object is stored. */
        MANIFEST,
        /** The feedback record, spooled already, carries the key: the blob is stored as attached, unannounced. */
        FEEDBACK
    }

    public StagedArtifact {
        announcedBy = announcedBy == null ? Announcement.MANIFEST : announcedBy;
    }

    /** The file names of this artifact inside its incident's directory. */
    String blobName() {
        return kind.toLowerCase(java.util.Locale.ROOT) + ".blob";
    }

    String ticketName() {
        return kind.toLowerCase(java.util.Locale.ROOT) + ".json";
    }
}
