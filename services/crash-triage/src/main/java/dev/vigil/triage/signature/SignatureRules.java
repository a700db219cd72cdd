package dev.vigil.triage.signature;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The versioned data that turns a parsed report into a signature: which frames say nothing about the bug (dump
 * and report machinery, scheduling and locking primitives, allocators, string and memory helpers, interrupt and
 * watchdog plumbing), which compiler suffixes to strip, and how many frames make a key. Rules are data
 * ({@code rules.json}) so a change is reviewable and versioned.
 */
public record SignatureRules(int version, int framesInKey, Pattern compilerSuffix, List<Pattern> skipFrames) {

    public SignatureRules {
        skipFrames = List.copyOf(skipFrames);
    }

    /** The rules shipped with this build. */
    public static SignatureRules current() {
        try (InputStream in = SignatureRules.class.getResourceAsStream("rules.json")) {
            return from(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("the signature rules resource is unreadable", e);
        }
    }

    static SignatureRules from(JsonNode json) {
        List<Pattern> skip = new ArrayList<>();
        for (JsonNode p : json.path("skipFrames")) {
            skip.add(Pattern.compile(p.asText()));
        }
        return new SignatureRules(
                json.path("version").asInt(),
                json.path("framesInKey").asInt(3),
                Pattern.compile("(?:" + json.path("compilerSuffix").asText() + ")+$"),
                skip);
    }

    /** A function name without compiler suffixes: {@code foo.isra.0.cold} is {@code foo}. */
    public String normalize(String function) {
        return function == null ? null : compilerSuffix.matcher(function).replaceFirst("");
    }

    /** True when a frame is machinery rather than the code at fault. */
    public boolean skipped(String function) {
        String name = normalize(function);
        for (Pattern p : skipFrames) {
            if (p.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }
}
