package dev.vigil.agent.hypervisor;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * A domain definition as libvirt returns it, read with a parser that refuses DTDs and entities and XML larger than a
 * domain definition can reasonably be. Only what the agent needs is exposed.
 */
public final class DomainXml {

    static final int MAX_XML_CHARS = 1 << 20;
    private static final String LIBOSINFO = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

    private final Element domain;

    private DomainXml(Element domain) {
        this.domain = domain;
    }

    /** The parsed definition, or empty for XML that is not well-formed, carries a DTD or is too large. */
    public static Optional<DomainXml> parse(String xml) {
        if (xml == null || xml.length() > MAX_XML_CHARS) {
            return Optional.empty();
        }
        try {
            return Optional.of(new DomainXml(
                    parser().parse(new InputSource(new StringReader(xml))).getDocumentElement()));
        } catch (SAXException | IOException | ParserConfigurationException e) {
            return Optional.empty();
        }
    }

    Element root() {
        return domain;
    }

    /** The file a {@code <serial type='file'>} (or {@code <console type='file'>}) device writes the guest's console to. */
    public Optional<Path> consoleFile() {
        for (Element devices : children(domain, "devices")) {
            for (String device : List.of("serial", "console")) {
                for (Element serial : children(devices, device)) {
                    if ("file".equals(serial.getAttribute("type"))) {
                        for (Element source : children(serial, "source")) {
                            String path = source.getAttribute("path");
                            if (!path.isBlank()) {
                                return Optional.of(Path.of(path));
                            }
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * True for a Windows guest: libosinfo metadata naming a Microsoft OS, or Hyper-V crash MSRs enabled (only Windows
     * uses them).
     */
    public boolean windowsGuest() {
        for (Element metadata : children(domain, "metadata")) {
            for (Element libosinfo : children(metadata, "libosinfo")) {
                if (LIBOSINFO.equals(libosinfo.getNamespaceURI())) {
                    for (Element os : children(libosinfo, "os")) {
                        if (os.getAttribute("id").contains("microsoft.com/win")) {
                            return true;
                        }
                    }
                }
            }
        }
        for (Element features : children(domain, "features")) {
            for (Element hyperv : children(features, "hyperv")) {
                for (Element crash : children(hyperv, "crash")) {
                    if ("on".equals(crash.getAttribute("state"))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** A file-backed disk: its target device (vda), the file, and the image format (qcow2, raw). */
    public record Disk(String target, Path file, String format) {}

    /** The VM's file-backed disks (not CD-ROMs), in definition order. */
    public List<Disk> disks() {
        List<Disk> disks = new ArrayList<>();
        for (Element devices : children(domain, "devices")) {
            for (Element disk : children(devices, "disk")) {
                if (!"file".equals(disk.getAttribute("type"))
                        || !(disk.getAttribute("device").isEmpty() || "disk".equals(disk.getAttribute("device")))) {
                    continue;
                }
                String file = first(disk, "source", "file");
                String target = first(disk, "target", "dev");
                String format = first(disk, "driver", "type");
                if (!file.isEmpty() && !target.isEmpty()) {
                    disks.add(new Disk(target, Path.of(file), format.isEmpty() ? "raw" : format));
                }
            }
        }
        return disks;
    }

    /**
     * For a {@code <domainsnapshot>} document: the overlay each disk got when the snapshot was external, by disk
     * name; empty for an internal snapshot.
     */
    public Map<String, Path> snapshotOverlays() {
        Map<String, Path> overlays = new LinkedHashMap<>();
        for (Element disks : children(domain, "disks")) {
            for (Element disk : children(disks, "disk")) {
                String file = first(disk, "source", "file");
                if ("external".equals(disk.getAttribute("snapshot")) && !file.isEmpty()) {
                    overlays.put(disk.getAttribute("name"), Path.of(file));
                }
            }
        }
        return overlays;
    }

    /** For a {@code <domainsnapshot>} document: its creation time in epoch seconds, or -1. */
    public long snapshotCreationTime() {
        for (Element time : children(domain, "creationTime")) {
            try {
                return Long.parseLong(time.getTextContent().strip());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    private static String first(Element parent, String child, String attribute) {
        for (Element element : children(parent, child)) {
            return element.getAttribute(attribute);
        }
        return "";
    }

    static List<Element> children(Element parent, String localName) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element element && localName.equals(element.getLocalName())) {
                found.add(element);
            }
        }
        return found;
    }

    private static DocumentBuilder parser() throws ParserConfigurationException {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setXIncludeAware(false);
        factory.setExpandEntityReferences(false);
        factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        DocumentBuilder builder = factory.newDocumentBuilder();
        // Fatal errors throw; nothing is printed to stderr.
        builder.setErrorHandler(new DefaultHandler());
        return builder;
    }
}
