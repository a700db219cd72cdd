package dev.vigil.agent.hypervisor;

/** A libvirt call made through {@link LibvirtNative} failed. */
public final class HypervisorException extends RuntimeException {

    public HypervisorException(String message) {
        super(message);
    }
}
