package dev.vigil.agent.hypervisor;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** Asks a VM's QEMU guest agent whether the guest is alive ({@code guest-ping}), with a bounded wait. */
public final class GuestAgent {

    private static final int TIMEOUT_SECONDS = 2;

    private GuestAgent() {}

    /**
     * True when the guest agent answered; false when it did not, is not configured, or the hypervisor cannot ask
     * (libvirt's test driver, non-QEMU hypervisors).
     */
    public static boolean answers(VigilConnect connection, String vmUuid) {
        LibvirtQemuNative qemu = LibvirtQemuNative.lib();
        if (qemu == null) {
            return false;
        }
        Pointer dom = LibvirtNative.LIB.virDomainLookupByUUIDString(connection.pointer(), vmUuid);
        if (dom == null) {
            return false;
        }
        try {
            Pointer reply = qemu.virDomainQemuAgentCommand(dom, "{\"execute\":\"guest-ping\"}", TIMEOUT_SECONDS, 0);
            if (reply == null) {
                return false;
            }
            Native.free(Pointer.nativeValue(reply));
            return true;
        } finally {
            LibvirtNative.LIB.virDomainFree(dom);
        }
    }
}
