package dev.vigil.agent.hypervisor;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** {@code libvirt-qemu.so.0}: QEMU monitor events relayed by libvirt (QEMU/KVM connections only). */
interface LibvirtQemuNative extends Library {

    LibvirtQemuNative LIB = Native.load("virt-qemu", LibvirtQemuNative.class);

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
