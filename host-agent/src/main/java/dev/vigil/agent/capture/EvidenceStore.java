package dev.vigil.agent.capture;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where the agent's evidence goes: the object store through links dispatch signs for this host ({@link LinkStore}, the
 * way an enrolled agent works, holding no store credentials), or the store's API with credentials of its own
 * ({@link DirectStore}, for a host trusted with them).
 */
interface EvidenceStore {

    /** What storing one object came to: whether the store had it already, and the bytes sent. */
    record Stored(String bucket, boolean known, long sentBytes) {}

    /**
     * Stores {@code file}, whose SHA-256 is {@code sha256}, as {@code key} (this host's, see
     * {@link dev.vigil.schemas.ObjectKeys}), unless the store holds it already.
     *
     * @param uploadState where a multipart upload keeps its id between attempts
     */
    Stored put(Path file, String key, String sha256, String contentType, Path uploadState) throws IOException;

    /** Where objects go, for messages. */
    String describe();
}
