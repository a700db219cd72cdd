package dev.vigil.serviceauth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.Optional;

/** The deployment's record keys (ADR 0007), shared by dispatch, which issues them, and ingestion, which checks them. */
@ConfigMapping(prefix = "vigil.identity")
public interface IdentityConfig {

    @WithName("record-key")
    RecordKey recordKey();

    interface RecordKey {
        /** The current epoch's secret, base64, at least 32 bytes; from the environment or a Secret, never committed. */
        Optional<String> secret();

        /** The epoch keys are issued in; raise it with a new secret to rotate. */
        @WithDefault("1")
        int epoch();

        /** The previous epoch's secret, still accepted while hosts renew after a rotation. */
        @WithName("previous-secret")
        Optional<String> previousSecret();
    }
}
