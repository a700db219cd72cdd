package dev.vigil.agent.capture;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * How crash capture runs and where its evidence goes. Capture is off when evidence has nowhere to go.
 *
 * @param uploadLinks evidence goes through upload links dispatch signs for this host ({@code EVIDENCE_UPLOAD=links}),
 *     with no object store credentials on the host
 * @param s3Endpoint the S3 store's URL ({@code S3_ENDPOINT}) when the agent writes with credentials of its own
 *     ({@code EVIDENCE_UPLOAD=store})
 * @param s3AccessKey its access key ({@code S3_ACCESS_KEY})
 * @param s3SecretKey its secret key ({@code S3_SECRET_KEY})
 * @param bucket the bucket artifacts go to ({@code S3_BUCKET}, default {@code vigil-artifacts})
 * @param encryptionKey a 256-bit AES key for client-side encryption ({@code ARTIFACT_ENCRYPTION_KEY}, base64); null
 *     stores blobs as captured
 * @param maxBytes the bound on artifacts staged on this host awaiting upload ({@code ARTIFACT_MAX_BYTES}, 8 GiB)
 * @param timeout how long one capture may take before it stops and reports what it has ({@code CAPTURE_TIMEOUT},
 *     5 min)
 * @param dumpPolicies memory dump policy per trigger ({@code DUMP_POLICY}, default
 *     {@code crash=kernel,watchdog=kernel,hang=kernel,io-error=none,interrupt=kernel}); a signed {@code SET_COLLECTION_POLICY}
 *     command overrides it
 * @param onCrash what happens to the VM after its capture ({@code ON_CRASH}: preserve, restart or relaunch)
 * @param flightRecorderWindow how much of a VM's recent events and samples a capture includes
 *     ({@code FLIGHT_RECORDER_WINDOW}, 10 min)
 * @param consoleTailBytes how much of the end of the VM's console file a capture keeps ({@code CONSOLE_TAIL_BYTES},
 *     256 KiB)
 * @param snapshotEvery how often running VMs on qcow2 overlays get a trusted snapshot ({@code SNAPSHOT_EVERY}, 6 h;
 *     {@code 0} turns it off)
 * @param snapshotKeep how many trusted (and how many failure) snapshots each VM keeps ({@code SNAPSHOT_KEEP}, 3)
 * @param snapshotMemory whether periodic snapshots include the memory state ({@code SNAPSHOT_MEMORY}, false: disk
 *     only)
 */
public record CaptureSettings(
        boolean uploadLinks,
        String s3Endpoint,
        String s3AccessKey,
        String s3SecretKey,
        String bucket,
        byte[] encryptionKey,
        long maxBytes,
        Duration timeout,
        Map<TriggerKind, DumpPolicy> dumpPolicies,
        OnCrashAction onCrash,
        Duration flightRecorderWindow,
        int consoleTailBytes,
        Duration snapshotEvery,
        int snapshotKeep,
        boolean snapshotMemory) {

    public static final String DEFAULT_BUCKET = "vigil-artifacts";

    public CaptureSettings {
        EnumMap<TriggerKind, DumpPolicy> policies = new EnumMap<>(defaultPolicies());
        policies.putAll(dumpPolicies);
        dumpPolicies = Map.copyOf(policies);
        encryptionKey = encryptionKey == null ? null : encryptionKey.clone();
    }

    public static Map<TriggerKind, DumpPolicy> defaultPolicies() {
        return Map.of(
                TriggerKind.CRASH, DumpPolicy.KERNEL,
                TriggerKind.WATCHDOG, DumpPolicy.KERNEL,
                TriggerKind.HANG, DumpPolicy.KERNEL,
                TriggerKind.IO_ERROR, DumpPolicy.NONE,
                TriggerKind.INTERRUPT, DumpPolicy.KERNEL);
    }

    public boolean enabled() {
        return uploadLinks || s3Endpoint != null;
    }

    @Override
    public byte[] encryptionKey() {
        return encryptionKey == null ? null : encryptionKey.clone();
    }
}
