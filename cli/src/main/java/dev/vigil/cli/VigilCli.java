package dev.vigil.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.schemas.delivery.SigningKey;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vendor's command line.
 *
 * <pre>
 * vigil keys generate [--out FILE]
 * vigil release upload --server URL --product P --release R --channel C --template FILE [--parameters FILE]
 *                      [--notes FILE] [--format qcow2|raw] [--publish] [--token T] IMAGE
 * </pre>
 *
 * The token is a bearer JWT of an operator from the vendor's identity provider ({@code --token} or
 * {@code VIGIL_TOKEN}).
 */
public final class VigilCli {

    static final String USAGE = """
            usage:
              vigil keys generate [--out FILE]
                  a new Ed25519 signing key as PEM (private and public halves) for dispatch's configuration
              vigil release upload --server URL --product P --release R --channel C --template FILE
                                   [--parameters FILE] [--notes FILE] [--format qcow2|raw] [--publish]
                                   [--token T] IMAGE
                  creates the release if needed, uploads the image's missing chunks, waits for dispatch's
                  verdict and, with --publish, publishes it (token: --token or VIGIL_TOKEN)""";

    private static final ObjectMapper JSON = new ObjectMapper();

    private VigilCli() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.getenv()));
    }

    /** Runs a command; returns the exit status. */
    static int run(String[] args, PrintStream out, Map<String, String> env) {
        try {
            if (args.length >= 2 && args[0].equals("keys") && args[1].equals("generate")) {
                return keysGenerate(options(args, 2), out);
            }
            if (args.length >= 2 && args[0].equals("release") && args[1].equals("upload")) {
                return releaseUpload(options(args, 2), out, env);
            }
            throw new CliException(CliException.USAGE, USAGE);
        } catch (CliException e) {
            System.err.println("vigil: " + e.getMessage());
            return e.status();
        }
    }

    private static int keysGenerate(Map<String, String> options, PrintStream out) throws CliException {
        SigningKey key = SigningKey.generate();
        String file = options.get("out");
        if (file == null) {
            out.print(key.toPem());
        } else {
            Path path = Path.of(file);
            try {
                Files.writeString(path, key.toPem());
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException | UnsupportedOperationException e) {
                throw new CliException(CliException.IO, "cannot write " + path + ": " + e.getMessage());
            }
        }
        System.err.println("key id " + key.keyId());
        return 0;
    }

    private static int releaseUpload(Map<String, String> options, PrintStream out, Map<String, String> env)
            throws CliException {
        String server = required(options, "server");
        String product = required(options, "product");
        String image = required(options, "image");
        String token = options.getOrDefault("token", env.get("VIGIL_TOKEN"));
        Map<String, Object> release = new LinkedHashMap<>();
        release.put("release", required(options, "release"));
        release.put("channel", required(options, "channel"));
        release.put("domainTemplate", read(required(options, "template")));
        release.put(
                "parameters",
                options.containsKey("parameters") ? parameters(read(options.get("parameters"))) : List.of());
        release.put("notes", options.containsKey("notes") ? read(options.get("notes")) : "");
        DispatchClient dispatch = new DispatchClient(server, token);
        ReleaseUpload.Outcome outcome = new ReleaseUpload(dispatch, out)
                .upload(product, release, options.getOrDefault("format", "qcow2"), Path.of(image), Duration.ofHours(2));
        if ("REJECTED".equals(outcome.state())) {
            return CliException.REFUSED;
        }
        if (options.containsKey("publish")) {
            DispatchClient.Reply published = dispatch.post(
                    "/api/v1/products/" + product + "/releases/" + release.get("release") + "/publish", Map.of());
            if (published.status() != 200) {
                throw new CliException(CliException.REFUSED, "publishing: " + DispatchClient.problem(published));
            }
            out.println("published " + product + " " + release.get("release") + " to "
                    + published.body().path("channel").asText());
        }
        return 0;
    }

    private static List<Object> parameters(String json) throws CliException {
        try {
            return JSON.readValue(json, new TypeReference<List<Object>>() {});
        } catch (IOException e) {
            throw new CliException(CliException.USAGE, "--parameters must be a JSON array: " + e.getMessage());
        }
    }

    private static String read(String file) throws CliException {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new CliException(CliException.IO, "cannot read " + file + ": " + e.getMessage());
        }
    }

    private static String required(Map<String, String> options, String name) throws CliException {
        String value = options.get(name);
        if (value == null || value.isBlank()) {
            throw new CliException(
                    CliException.USAGE,
                    (name.equals("image") ? "the image file" : "--" + name) + " is required\n" + USAGE);
        }
        return value;
    }

    /** {@code --name value} pairs, {@code --flag}s and one positional argument, the image. */
    static Map<String, String> options(String[] args, int from) throws CliException {
        Map<String, String> options = new HashMap<>();
        for (int i = from; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--publish")) {
                options.put("publish", "true");
            } else if (arg.startsWith("--")) {
                if (i + 1 >= args.length) {
                    throw new CliException(CliException.USAGE, arg + " needs a value\n" + USAGE);
                }
                options.put(arg.substring(2), args[++i]);
            } else if (!options.containsKey("image")) {
                options.put("image", arg);
            } else {
                throw new CliException(CliException.USAGE, "unexpected argument " + arg + "\n" + USAGE);
            }
        }
        return options;
    }
}
