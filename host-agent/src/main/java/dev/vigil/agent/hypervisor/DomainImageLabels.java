package dev.vigil.agent.hypervisor;

import dev.vigil.agent.mapping.ImageLabel;
import dev.vigil.agent.mapping.ImageLabels;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.libvirt.LibvirtException;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The product and release a VM runs, read from its domain XML, where the vendor's master image definition declares
 * them:
 *
 * <pre>{@code
 * <metadata>
 *   <vigil:image xmlns:vigil="urn:vigil:image:1" product="AcmeOS" release="12.0-beta3"/>
 * </metadata>
 * }</pre>
 *
 * Read once per domain and cached; {@link #forget} drops an entry when the domain is redefined or removed.
 */
public final class DomainImageLabels implements ImageLabels {

    public static final String NAMESPACE = "urn:vigil:image:1";
    static final int MAX_VALUE_CHARS = 128;

    private static final System.Logger LOG = System.getLogger(DomainImageLabels.class.getName());

    private final Supplier<DomainWatcher> watcher;
    private final ConcurrentHashMap<String, ImageLabel> cache = new ConcurrentHashMap<>();

    public DomainImageLabels(Supplier<DomainWatcher> watcher) {
        this.watcher = watcher;
    }

    @Override
    public ImageLabel of(String vmUuid) {
        ImageLabel label = cache.computeIfAbsent(vmUuid, this::load);
        return label == null ? ImageLabel.NONE : label;
    }

    /** Reads the domain again next time (it was redefined, or it is gone). */
    public void forget(String vmUuid) {
        cache.remove(vmUuid);
    }

    private ImageLabel load(String vmUuid) {
        try {
            DomainWatcher current = watcher.get();
            if (current == null) {
                return null;
            }
            String xml = current.connection().domainLookupByUUIDString(vmUuid).getXMLDesc(0);
            return parse(xml);
        } catch (LibvirtException | RuntimeException e) {
            // Not cached: a transient failure must not hide the labels for the VM's lifetime.
            LOG.log(System.Logger.Level.DEBUG, "no domain XML for " + vmUuid + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * The labels a domain XML declares; {@link ImageLabel#NONE} for XML without them and for XML that is not
     * well-formed, carries a DTD or is larger than a domain definition can reasonably be.
     */
    public static ImageLabel parse(String xml) {
        return DomainXml.parse(xml).map(DomainImageLabels::labels).orElse(ImageLabel.NONE);
    }

    private static ImageLabel labels(DomainXml xml) {
        for (Element metadata : DomainXml.children(xml.root(), "metadata")) {
            for (Node n = metadata.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element image
                        && NAMESPACE.equals(image.getNamespaceURI())
                        && "image".equals(image.getLocalName())) {
                    return new ImageLabel(value(image, "product"), value(image, "release"));
                }
            }
        }
        return ImageLabel.NONE;
    }

    private static String value(Element image, String attribute) {
        String value = image.getAttribute(attribute).strip();
        if (value.isEmpty() || value.length() > MAX_VALUE_CHARS || value.chars().anyMatch(Character::isISOControl)) {
            return null;
        }
        return value;
    }
}
