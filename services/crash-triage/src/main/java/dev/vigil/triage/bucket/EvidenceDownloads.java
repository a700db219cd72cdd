package dev.vigil.triage.bucket;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.problem.ProblemException;
import dev.vigil.schemas.EvidenceEncryption;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A report's evidence as analysts read it: the stored bytes, or, for evidence the agent encrypted (VGE1), the
 * plaintext decrypted as it streams with the key of the manifest's id from {@code vigil.triage.evidence-keys}. Only
 * evidence ingestion verified against its manifest's SHA-256 is served, which is what authenticates a sealed blob's
 * bytes (the stream does not wait for the tag at the end).
 */
@ApplicationScoped
public class EvidenceDownloads {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** An artifact ready to stream: its kind, its format (the file's extension) and its bytes. */
    public record Download(String kind, String format, boolean decrypted, InputStream content) {}

    private final BucketRepository reports;
    private final EvidenceStore store;
    private final EvidenceKeys keys;

    EvidenceDownloads(BucketRepository reports, EvidenceStore store, EvidenceKeys keys) {
        this.reports = reports;
        this.store = store;
        this.keys = keys;
    }

    /**
     * The verified artifact of {@code kind} of the report of {@code incidentId}, opened.
     *
     * @throws ProblemException 404 when there is no such report or no verified artifact of that kind, 409 when it is
     *     sealed with a key triage does not hold
     * @throws IOException when the store cannot be read just now
     */
    public Download open(String incidentId, String kind) throws IOException, SQLException {
        String json = reports.artifactsOf(incidentId);
        if (json == null) {
            throw ProblemException.notFound("No such report", "no report of incident " + incidentId);
        }
        Map<String, Object> artifact =
                JSON.readValue(json, new TypeReference<List<LinkedHashMap<String, Object>>>() {}).stream()
                        .filter(a -> kind.equals(a.get("kind")) && "VERIFIED".equals(a.get("status")))
                        .findFirst()
                        .orElseThrow(() -> ProblemException.notFound(
                                "No such evidence",
                                "the report of incident " + incidentId + " has no verified " + kind));
        String key = String.valueOf(artifact.get("objectKey"));
        String format = String.valueOf(artifact.get("format"));
        Object encryption = artifact.get("encryption");
        if (encryption == null) {
            return new Download(kind, format, false, store.open(key));
        }
        String keyId = EvidenceEncryption.keyIdOf(encryption.toString());
        Optional<byte[]> secret = keys.byId(keyId);
        if (secret.isEmpty()) {
            throw new ProblemException(
                    409,
                    "Key not held",
                    "this " + kind + " is encrypted with "
                            + (keyId == null ? "a key its manifest does not name" : "key " + keyId)
                            + ", which crash triage does not hold (vigil.triage.evidence-keys)");
        }
        InputStream sealed = store.open(key);
        try {
            return new Download(
                    kind,
                    format,
                    true,
                    EvidenceEncryption.decrypting(
                            secret.get(), sealed, ((Number) artifact.get("sizeBytes")).longValue()));
        } catch (GeneralSecurityException e) {
            sealed.close();
            throw new IOException(
                    "the stored " + kind + " of incident " + incidentId + " is not sealed as its" + " manifest says: "
                            + e.getMessage(),
                    e);
        }
    }
}
