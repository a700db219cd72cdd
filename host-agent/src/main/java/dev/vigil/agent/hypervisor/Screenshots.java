package dev.vigil.agent.hypervisor;

import java.io.ByteArrayOutputStream;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.libvirt.Stream;

/** Takes a domain's screenshot through the hypervisor (PNG from QEMU; libvirt's test driver returns a fixed image). */
public final class Screenshots {

    private Screenshots() {}

    public static byte[] capture(Connect hypervisor, Domain domain) throws LibvirtException {
        Stream stream = hypervisor.streamNew(0);
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        try {
            domain.screenshot(stream, 0);
            byte[] buffer = new byte[64 * 1024];
            for (int n = stream.receive(buffer); n > 0; n = stream.receive(buffer)) {
                image.write(buffer, 0, n);
            }
            stream.finish();
        } finally {
            stream.free();
        }
        return image.toByteArray();
    }
}
