package dev.vigil.agent.hypervisor;

import com.sun.jna.Pointer;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/** A libvirt connection that also hands its native pointer to {@link LibvirtNative} for what libvirt-java lacks. */
public final class VigilConnect extends Connect {

    public VigilConnect(String uri) throws LibvirtException {
        super(uri);
    }

    /** The {@code virConnectPtr}; valid until {@link #close()}. */
    Pointer pointer() {
        return vcp.getPointer();
    }
}
