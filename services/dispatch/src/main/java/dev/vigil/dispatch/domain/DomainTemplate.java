package dev.vigil.dispatch.domain;

import java.io.StringReader;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * A release's libvirt domain template and how one user's VM is rendered from it. Placeholders are
 * {@code {{param.<name>}}} for the release's parameters, {@code {{vm.name}}} and {@code {{vm.uuid}}}, and
 * {@code {{vigil.disk}}} and {@code {{vigil.console}}}, which stay in the rendered text for the agent to replace with
 * its local paths (the copy-on-write disk over the master image, the serial console file). Values are XML-escaped;
 * the rendered domain's name, UUID and Vigil image metadata (product and release) are set by dispatch whatever the
 * template says, so agents and ingestion always know what a VM runs.
 */
public final class DomainTemplate {

    public static final String DISK = "{{vigil.disk}}";
    public static final String CONSOLE = "{{vigil.console}}";
    static final String IMAGE_NAMESPACE = "urn:vigil:image:1";
    static final int MAX_LENGTH = 256 * 1024;

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([a-z]+)\\.([A-Za-z0-9_]+)\\s*}}");
    private static final Pattern VM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    /** A rendered domain: its XML and every parameter's value, by name. */
    public record Rendered(String xml, Map<String, String> parameters) {}

    private DomainTemplate() {}

    /** Checks a template against its parameters by rendering it with the defaults. */
    public static void check(String template, List<TemplateParameter> parameters) throws TemplateException {
        if (template == null || template.isBlank()) {
            throw new TemplateException("the release needs a domainTemplate: libvirt domain XML");
        }
        if (template.length() > MAX_LENGTH) {
            throw new TemplateException("the domain template is over " + MAX_LENGTH + " characters");
        }
        Set<String> names = new HashSet<>();
        for (TemplateParameter parameter : parameters) {
            String problem = parameter.definitionProblem();
            if (problem != null) {
                throw new TemplateException(problem);
            }
            if (!names.add(parameter.name())) {
                throw new TemplateException("parameter " + parameter.name() + " is declared twice");
            }
        }
        if (!template.contains(DISK)) {
            throw new TemplateException("the domain template must put " + DISK
                    + " where the master image's disk goes (a <source file=...>)");
        }
        render(template, parameters, Map.of(), "product", "release", "vm", "00000000-0000-4000-8000-000000000000");
    }

    /**
     * Renders one VM's domain.
     *
     * @param values the user's values; parameters not given take their defaults
     * @throws TemplateException naming the value or the XML problem
     */
    public static Rendered render(
            String template,
            List<TemplateParameter> parameters,
            Map<String, String> values,
            String product,
            String release,
            String vmName,
            String vmUuid)
            throws TemplateException {
        if (!VM_NAME.matcher(vmName).matches()) {
            throw new TemplateException(
                    "a VM name is 1-63 letters, digits, '.', '_' or '-', starting with a letter" + " or digit");
        }
        Map<String, TemplateParameter> byName = new TreeMap<>();
        parameters.forEach(p -> byName.put(p.name(), p));
        for (String name : values.keySet()) {
            if (!byName.containsKey(name)) {
                throw new TemplateException(
                        "the release has no parameter " + name + " (it has " + byName.keySet() + ")");
            }
        }
        Map<String, String> resolved = new TreeMap<>();
        for (TemplateParameter parameter : byName.values()) {
            String value = values.getOrDefault(parameter.name(), parameter.defaultValue());
            String problem = parameter.valueProblem(value);
            if (problem != null) {
                throw new TemplateException(problem);
            }
            resolved.put(parameter.name(), value);
        }
        Matcher matcher = PLACEHOLDER.matcher(template);
        StringBuilder text = new StringBuilder();
        while (matcher.find()) {
            String scope = matcher.group(1);
            String name = matcher.group(2);
            String replacement = switch (scope) {
                case "param" -> {
                    String value = resolved.get(name);
                    if (value == null) {
                        throw new TemplateException(
                                "the template uses {{param." + name + "}} but the release declares no such parameter");
                    }
                    yield escape(value);
                }
                case "vm" ->
                    switch (name) {
                        case "name" -> escape(vmName);
                        case "uuid" -> escape(vmUuid);
                        default -> throw new TemplateException("unknown placeholder {{vm." + name + "}}");
                    };
                case "vigil" ->
                    switch (name) {
                        case "disk" -> DISK;
                        case "console" -> CONSOLE;
                        default -> throw new TemplateException("unknown placeholder {{vigil." + name + "}}");
                    };
                default -> throw new TemplateException("unknown placeholder {{" + scope + "." + name + "}}");
            };
            matcher.appendReplacement(text, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(text);
        Document document = parse(text.toString());
        Element domain = document.getDocumentElement();
        if (!"domain".equals(domain.getNodeName())) {
            throw new TemplateException("the template's root element is <" + domain.getNodeName() + ">, not <domain>");
        }
        setChild(document, domain, "name", vmName);
        setChild(document, domain, "uuid", vmUuid);
        setImage(document, domain, product, release);
        return new Rendered(serialize(document), Map.copyOf(resolved));
    }

    private static Document parse(String xml) throws TemplateException {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            // Templates come from vendors' staff; still, no entity of any kind is expanded or fetched.
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(null);
            return builder.parse(new InputSource(new StringReader(xml)));
        } catch (SAXException e) {
            throw new TemplateException("the rendered domain is not well-formed XML: " + e.getMessage());
        } catch (ParserConfigurationException | java.io.IOException e) {
            throw new IllegalStateException("the JDK's XML parser cannot be configured safely", e);
        }
    }

    private static void setChild(Document document, Element domain, String name, String value) {
        Element child = firstChild(domain, null, name);
        if (child == null) {
            child = document.createElement(name);
            domain.insertBefore(child, domain.getFirstChild());
        }
        child.setTextContent(value);
    }

    private static void setImage(Document document, Element domain, String product, String release) {
        Element metadata = firstChild(domain, null, "metadata");
        if (metadata == null) {
            metadata = document.createElement("metadata");
            domain.appendChild(metadata);
        }
        Element image = firstChild(metadata, IMAGE_NAMESPACE, "image");
        if (image == null) {
            image = document.createElementNS(IMAGE_NAMESPACE, "vigil:image");
            metadata.appendChild(image);
        }
        image.setAttribute("product", product);
        image.setAttribute("release", release);
    }

    private static Element firstChild(Element parent, String namespace, String localName) {
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node node = children.item(i);
            if (node instanceof Element element) {
                String name = element.getLocalName() == null ? element.getNodeName() : element.getLocalName();
                boolean sameNamespace = namespace == null
                        ? element.getNamespaceURI() == null
                        : namespace.equals(element.getNamespaceURI());
                if (name.equals(localName) && sameNamespace) {
                    return element;
                }
            }
        }
        return null;
    }

    private static String serialize(Document document) {
        try {
            Transformer transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(document), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("serializing a parsed domain failed", e);
        }
    }

    private static String escape(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (char ch : value.toCharArray()) {
            switch (ch) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }
}
