package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** QEMU's {@code qemu-img}, for what libvirt does not say about images: chains, allocation, new overlays. */
public final class QemuImg {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_MINUTES = 5;

    private QemuImg() {}

    /** Runs {@code qemu-img args...} and reads its JSON output. */
    public static JsonNode json(String... args) throws IOException {
        return JSON.readTree(run(args));
    }

    /** Runs {@code qemu-img args...}; fails with qemu-img's own message. */
    public static byte[] run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("qemu-img");
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        try {
            // stderr is small; stdout (a map of a large image) is read first so neither pipe fills.
            byte[] out = process.getInputStream().readAllBytes();
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException("qemu-img " + args[0] + " did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            if (process.exitValue() != 0) {
                throw new IOException("qemu-img " + String.join(" ", args) + " failed: " + err);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted waiting for qemu-img", e);
        }
    }
}
