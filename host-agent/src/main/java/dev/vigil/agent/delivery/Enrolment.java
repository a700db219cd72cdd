package dev.vigil.agent.delivery;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;

/**
 * This host's enrolment, kept under {@code delivery/}: the product and channel it enrolled in, and the host token
 * dispatch gave it (owner-readable only; it is this host's credential).
 */
public record Enrolment(String product, String channel, String hostToken) {

    static Path dir(Path stateDir) {
        return stateDir.resolve("delivery");
    }

    /** This host's enrolment, or a refusal saying how to enrol. */
    public static Enrolment load(Path stateDir) throws DeliveryException {
        Path file = dir(stateDir).resolve("enrolment.properties");
        Path token = dir(stateDir).resolve("host-token");
        if (!Files.exists(file) || !Files.exists(token)) {
            throw new DeliveryException(
                    DeliveryException.Kind.NOT_CONFIGURED,
                    "this host is not enrolled: run vigil-agent enroll TOKEN with the token from the vendor's beta page");
        }
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties properties = new Properties();
            properties.load(in);
            return new Enrolment(
                    properties.getProperty("product"),
                    properties.getProperty("channel"),
                    Files.readString(token).strip());
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Keeps this enrolment under {@code stateDir}, the host token readable by its owner alone. */
    public void save(Path stateDir) throws DeliveryException {
        Path dir = dir(stateDir);
        try {
            Files.createDirectories(dir);
            Path token = dir.resolve("host-token");
            Files.deleteIfExists(token);
            Files.createFile(token, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(token, hostToken, StandardOpenOption.TRUNCATE_EXISTING);
            Properties properties = new Properties();
            properties.setProperty("product", product);
            properties.setProperty("channel", channel);
            try (Writer out = Files.newBufferedWriter(dir.resolve("enrolment.properties"), StandardCharsets.UTF_8)) {
                properties.store(out, "This host's enrolment with the vendor's dispatch");
            }
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + dir + ": " + e.getMessage(), e);
        }
    }
}
