package dev.vigil.devstack;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Test-facing: tests that need the real hypervisor skip where it is not set up, and fail where CI requires it. */
public final class HypervisorAssumptions {

    private HypervisorAssumptions() {}

    /** Skips the test when {@link GuestDomain#unavailable()}, or fails it when {@code VIGIL_REQUIRE_HYPERVISOR=1}. */
    public static void assumeReady() {
        String why = GuestDomain.unavailable();
        if (why != null && "1".equals(System.getenv("VIGIL_REQUIRE_HYPERVISOR"))) {
            fail(why);
        }
        assumeTrue(why == null, why);
    }
}
