package dev.vigil.triage.rules;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.config.TriageConfig;
import dev.vigil.triage.signature.InvalidRulesException;
import dev.vigil.triage.signature.SignatureRules;
import dev.vigil.triage.signature.Signatures;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.jboss.logging.Logger;

/**
 * The signature rules triage files reports with: the built-in {@code rules.json}, or {@code vigil.triage.rules-file}
 * when set, read again when the file changes (so a new rules version rolls out without a restart). A file that is
 * not valid rules stops start-up; a bad edit later is logged and the rules in force stay.
 */
@ApplicationScoped
public class RulesProvider {

    private static final Logger LOG = Logger.getLogger(RulesProvider.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private volatile Loaded loaded;

    RulesProvider(TriageConfig config) {
        this.file = config.triage().rulesFile().map(Path::of).orElse(null);
        if (file == null) {
            this.loaded = new Loaded(new Signatures(SignatureRules.current()), null);
        } else {
            try {
                this.loaded = load(file);
            } catch (IOException | InvalidRulesException e) {
                throw new IllegalStateException(
                        "vigil.triage.rules-file " + file + " is not readable rules (" + e.getMessage()
                                + "): fix the file or unset the key to use the built-in rules",
                        e);
            }
            LOG.infof(
                    "signature rules version %d from %s",
                    loaded.signatures().rules().version(), file);
        }
    }

    /** The rules in force, as signatures. */
    public Signatures signatures() {
        if (file != null) {
            refresh();
        }
        return loaded.signatures();
    }

    private void refresh() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (modified.equals(loaded.modified())) {
                return;
            }
            synchronized (this) {
                if (!modified.equals(loaded.modified())) {
                    int before = loaded.signatures().rules().version();
                    loaded = load(file);
                    LOG.infof(
                            "signature rules reloaded from %s: version %d (was %d)",
                            file, loaded.signatures().rules().version(), before);
                }
            }
        } catch (IOException | InvalidRulesException e) {
            LOG.warnf(
                    "signature rules in %s not reloaded, version %d stays: %s",
                    file, loaded.signatures().rules().version(), e.getMessage());
        }
    }

    private static Loaded load(Path file) throws IOException, InvalidRulesException {
        FileTime modified = Files.getLastModifiedTime(file);
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length > SignatureRules.MAX_BYTES) {
            throw new InvalidRulesException("over " + SignatureRules.MAX_BYTES + " bytes");
        }
        return new Loaded(new Signatures(SignatureRules.parse(JSON.readTree(bytes))), modified);
    }

    private record Loaded(Signatures signatures, FileTime modified) {}
}
