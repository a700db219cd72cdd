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
 */
public record DeliverySettings(
        String dispatchUrl,
        boolean lazyBoot,
        int imagePort,
        Duration pullDelay,
        long pullRate,
        Duration licenseCheck) {}
