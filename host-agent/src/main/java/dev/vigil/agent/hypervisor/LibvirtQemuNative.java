package dev.vigil.agent.hypervisor;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * {@code libvirt-qemu.so.0}: QEMU monitor events and guest-agent commands relayed by libvirt (QEMU/KVM only).
 * Use {@link #lib()}: the library is optional, and a failed load must not become a class-initialization error.
 */
interface LibvirtQemuNative extends Library {

    /** The loaded library, or null where it is not installed. */
    static LibvirtQemuNative lib() {
        return Holder.LIB;
    }

    /** Loads once; remembers absence instead of failing every later use. */
    final class Holder {
        static final LibvirtQemuNative LIB = load();

        private Holder() {}

        private static LibvirtQemuNative load() {
            try {
                return Native.load("virt-qemu", LibvirtQemuNative.class);
            } catch (LinkageError e) {
                return null;
            }
        }
    }

    int virConnectDomainQemuMonitorEventRegister(
            Pointer conn,
            Pointer dom,
            String event,
            MonitorEventCallback callback,
            Pointer opaque,
            Pointer freeCallback,
            int flags);

    int virConnectDomainQemuMonitorEventDeregister(Pointer conn, int callbackId);

    /** Runs a guest-agent command; returns a malloc'ed JSON reply (free it) or NULL on failure or timeout. */
    Pointer virDomainQemuAgentCommand(Pointer dom, String command, int timeoutSeconds, int flags);

    /** virConnectDomainQemuMonitorEventCallback: the event's name, time and JSON details. */
    interface MonitorEventCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, String event, long seconds, int micros, String details, Pointer opaque);
    }
}
