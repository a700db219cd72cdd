package dev.vigil.agent.delivery;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * What a vendor's domain definition may ask of this host. The definition is signed, but a signature says who wrote
 * it, not that it is harmless: a vendor (or its stolen key) must not be able to reach out of the VM through libvirt.
 * So: no host devices, file systems, shared memory or USB redirection; no disk or console on a host path other than
 * the agent's own ({@code {{vigil.disk}}}, {@code {{vigil.console}}}); no emulator of its own, no QEMU command line,
 * no host kernel, firmware or network script; interfaces only on libvirt networks, bridges or user networking.
 */
final class DomainPolicy {

    static final String QEMU_NAMESPACE = "http://libvirt.org/schemas/domain/qemu/1.0";
    private static final Set<String> DOMAIN_TYPES = Set.of("kvm", "qemu", "test");
    private static final Set<String> FORBIDDEN = Set.of(
            "hostdev",
            "filesystem",
            "redirdev",
            "redirfilter",
            "smartcard",
            "shmem",
            "emulator",
            "kernel",
            "initrd",
            "dtb",
            "loader",
            "nvram",
            "script",
            "backingStore");
    private static final Set<String> PATH_ATTRIBUTES = Set.of("file", "dev", "dir", "path", "socket");
    private static final Set<String> AGENT_PATHS = Set.of("{{vigil.disk}}", "{{vigil.console}}");
    private static final Set<String> INTERFACE_TYPES = Set.of("network", "bridge", "user");
    private static final Set<String> CHARACTER_TYPES = Set.of("file", "pty", "null");
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "::1", "localhost");

    private DomainPolicy() {}

    /** Throws, naming what is refused, unless the definition stays within the VM. */
    static void check(String xml) throws DeliveryException {
        Document document = parse(xml);
        Element domain = document.getDocumentElement();
        if (!"domain".equals(domain.getTagName()) || !DOMAIN_TYPES.contains(domain.getAttribute("type"))) {
            refuse("the definition is not a kvm, qemu or test domain");
        }
        walk(domain);
    }

    /**
     * The definition with the agent's paths in place of {@code {{vigil.disk}}} and {@code {{vigil.console}}}; the
     * agent's disk is a qcow2 overlay whose errors pause the VM (not the guest's file system), whatever the template
     * said of its driver.
     */
    static String place(String xml, Path disk, Path console, Map<String, String> firmware) throws DeliveryException {
        Document document = parse(xml);
        if (!firmware.isEmpty()) {
            Element sysinfo = null;
            NodeList existing = document.getElementsByTagName("sysinfo");
            for (int i = 0; i < existing.getLength(); i++) {
                Element candidate = (Element) existing.item(i);
                if ("fwcfg".equals(candidate.getAttribute("type"))) {
                    sysinfo = candidate;
                }
            }
            if (sysinfo == null) {
                sysinfo = document.createElement("sysinfo");
                sysinfo.setAttribute("type", "fwcfg");
                document.getDocumentElement().appendChild(sysinfo);
            }
            for (Map.Entry<String, String> value : new java.util.TreeMap<>(firmware).entrySet()) {
                Element entry = document.createElement("entry");
                entry.setAttribute("name", value.getKey());
                entry.setTextContent(value.getValue());
                sysinfo.appendChild(entry);
            }
        }
        NodeList disks = document.getElementsByTagName("disk");
        for (int i = 0; i < disks.getLength(); i++) {
            Element element = (Element) disks.item(i);
            Element source = child(element, "source");
            if (source == null || !"{{vigil.disk}}".equals(source.getAttribute("file"))) {
                continue;
            }
            Element driver = child(element, "driver");
            if (driver == null) {
                driver = document.createElement("driver");
                element.insertBefore(driver, element.getFirstChild());
            }
            driver.setAttribute("name", "qemu");
            driver.setAttribute("type", "qcow2");
            driver.setAttribute("error_policy", "stop");
            driver.setAttribute("rerror_policy", "stop");
        }
        replace(
                document.getDocumentElement(),
                Map.of("{{vigil.disk}}", disk.toString(), "{{vigil.console}}", console.toString()));
        try {
            Transformer transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(document), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("the JDK cannot write a parsed XML document", e);
        }
    }

    private static Element child(Element parent, String name) {
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e && name.equals(e.getTagName())) {
                return e;
            }
        }
        return null;
    }

    private static void replace(Element element, Map<String, String> values) {
        NamedNodeMap attributes = element.getAttributes();
        for (int i = 0; i < attributes.getLength(); i++) {
            Attr attribute = (Attr) attributes.item(i);
            String value = values.get(attribute.getValue());
            if (value != null) {
                attribute.setValue(value);
            }
        }
        NodeList children = element.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e) {
                replace(e, values);
            }
        }
    }

    private static void walk(Element element) throws DeliveryException {
        String name = element.getLocalName() == null ? element.getTagName() : element.getLocalName();
        if (QEMU_NAMESPACE.equals(element.getNamespaceURI())) {
            refuse("it passes QEMU its own command line or capabilities (<qemu:" + name + ">)");
        }
        if (FORBIDDEN.contains(name)) {
            refuse("it asks for <" + name + ">, which reaches the host");
        }
        if ("entry".equals(name) && element.hasAttribute("file")) {
            refuse("a firmware entry would hand the guest the host file '" + element.getAttribute("file") + "'");
        }
        if ("entry".equals(name) && element.getAttribute("name").startsWith("opt/dev.vigil/")) {
            refuse("firmware entries under opt/dev.vigil/ are the agent's");
        }
        if ("disk".equals(name) && !"file".equals(element.getAttribute("type"))) {
            refuse("a disk of type '" + element.getAttribute("type") + "' would be a host device or path");
        }
        if ("interface".equals(name) && !INTERFACE_TYPES.contains(element.getAttribute("type"))) {
            refuse("an interface of type '" + element.getAttribute("type") + "' reaches the host's own devices");
        }
        if (("serial".equals(name) || "console".equals(name) || "channel".equals(name) || "parallel".equals(name))
                && element.hasAttribute("type")
                && !CHARACTER_TYPES.contains(element.getAttribute("type"))
                && !"unix".equals(element.getAttribute("type"))) {
            refuse("a " + name + " of type '" + element.getAttribute("type") + "' reaches the host");
        }
        if (("graphics".equals(name) || "listen".equals(name))
                && (notLoopback(element.getAttribute("listen")) || notLoopback(element.getAttribute("address")))) {
            refuse("its display listens beyond this machine's loopback");
        }
        NamedNodeMap attributes = element.getAttributes();
        for (int i = 0; i < attributes.getLength(); i++) {
            Attr attribute = (Attr) attributes.item(i);
            String attributeName = attribute.getLocalName() == null ? attribute.getName() : attribute.getLocalName();
            if (PATH_ATTRIBUTES.contains(attributeName)
                    && isDeviceSource(element)
                    && !AGENT_PATHS.contains(attribute.getValue())) {
                refuse("<" + name + " " + attributeName + "='" + attribute.getValue() + "'> names a host path; only"
                        + " {{vigil.disk}} and {{vigil.console}} may be used");
            }
        }
        NodeList children = element.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node child = children.item(i);
            if (child instanceof Element e) {
                walk(e);
            }
        }
    }

    private static boolean notLoopback(String address) {
        return !address.isEmpty() && !LOOPBACK.contains(address);
    }

    /** A {@code <source>} or {@code <log>} of a device: where host paths would be named. */
    private static boolean isDeviceSource(Element element) {
        String name = element.getLocalName() == null ? element.getTagName() : element.getLocalName();
        return "source".equals(name) || "log".equals(name);
    }

    private static Document parse(String xml) throws DeliveryException {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            var builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXException | IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.POLICY,
                    "the vendor's domain definition is not well-formed XML: " + e.getMessage());
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser cannot be configured safely", e);
        }
    }

    private static void refuse(String why) throws DeliveryException {
        throw new DeliveryException(
                DeliveryException.Kind.POLICY,
                "the vendor's domain definition was refused: " + why + ". Nothing was installed; tell the vendor");
    }
}
