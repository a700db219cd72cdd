package dev.vigil.agent.hypervisor;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Snapshots the agent takes on schedule or on command are named {@code vigil-<UTC time>} and count as trusted: the
 * VM was healthy when they were taken. "The last trusted snapshot" is the newest of those. Snapshots taken at a
 * failure are named {@code failure-...} and never count.
 */
public final class TrustedSnapshots {

    public static final String TRUSTED_PREFIX = "vigil-";

    private TrustedSnapshots() {}

    public static Optional<String> last(Domain domain) throws LibvirtException {
        return Arrays.stream(domain.snapshotListNames())
                .filter(n -> n.startsWith(TRUSTED_PREFIX))
                .max(Comparator.naturalOrder());
    }
}
