package dev.vigil.agent.config;

import java.time.Duration;

/**
 * How this host takes the vendor's releases.
 *
 * @param dispatchUrl the vendor's dispatch service, for enrolment, installs and licenses ({@code DISPATCH_URL}; none
 *     means this host takes no deliveries)
 * @param lazyBoot whether a VM starts before its image has arrived, reading what it needs on demand while the rest
 *     is pulled in the background ({@code LAZY_BOOT}, default true; false downloads the whole image first)
 * @param imagePort the loopback port QEMU reads partly downloaded images from ({@code IMAGE_PORT}, default 9465;
 *     it is written into the VM's disk while the image arrives, so it must stay the same across restarts)
 * @param pullDelay how long the background pull waits after a VM starts, so that its boot reads go first
 *     ({@code PULL_DELAY}, default 10 s)
 * @param pullRate the background pull's bound in bytes per second ({@code PULL_RATE}; default none); reads a
 *     running VM waits for always go first
 * @param licenseCheck how often the running agent enforces the licenses of installed products: renews leases, warns
 *     ahead of the end of a term, stops VMs whose license does not allow running ({@code LICENSE_CHECK_PERIOD},
 *     default 60 s)
 * @param updateWindow how long an updated VM must stay healthy (running, no crash, hang, watchdog or I/O-error
 *     pause) before the update is confirmed; a failure within it rolls back on its own ({@code UPDATE_WINDOW},
 *     default 10 min)
 * @param shutdownTimeout how long a VM is given to shut down cleanly before an update or a rollback stops it hard
 *     ({@code SHUTDOWN_TIMEOUT}, default 60 s)
 * @param conformityCheck how often the running agent compares each installed VM's image with its release manifest
 *     ({@code CONFORMITY_CHECK_PERIOD}, default a day; 0 only on demand, by the vendor's CHECK_CONFORMITY command)
 */
public record DeliverySettings(
        String dispatchUrl,
        boolean lazyBoot,
        int imagePort,
        Duration pullDelay,
        long pullRate,
        Duration licenseCheck,
        Duration updateWindow,
        Duration shutdownTimeout,
        Duration conformityCheck) {}
