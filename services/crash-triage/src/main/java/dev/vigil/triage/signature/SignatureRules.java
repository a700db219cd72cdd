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

    /** The largest rules document accepted: the shipped one is about 4 KiB. */
    public static final int MAX_BYTES = 256 * 1024;

    static final int MAX_FRAMES_IN_KEY = 16;
    static final int MAX_SKIP_FRAMES = 5000;
    static final int MAX_PATTERN = 500;
    private static final java.util.Set<String> FIELDS =
            java.util.Set.of("version", "comment", "framesInKey", "compilerSuffix", "skipFrames");

    /**
     * Rules from a document in the format of {@code rules.json}, checked strictly: a positive {@code version},
     * {@code framesInKey} 1-16, {@code compilerSuffix} and every {@code skipFrames} entry valid Java regular
     * expressions (at most 500 characters, at most 5,000 entries), an optional {@code comment}, nothing else.
     *
     * @throws InvalidRulesException naming what is wrong
     */
    public static SignatureRules parse(JsonNode json) throws InvalidRulesException {
        if (json == null || !json.isObject()) {
            throw new InvalidRulesException("rules are a JSON object like rules.json");
        }
        for (var names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new InvalidRulesException(
                        "unknown field " + name + "; rules have " + new java.util.TreeSet<>(FIELDS));
            }
        }
        JsonNode version = json.get("version");
        if (version == null || !version.canConvertToInt() || !version.isIntegralNumber() || version.asInt() < 1) {
            throw new InvalidRulesException("version must be a whole number from 1");
        }
        JsonNode frames = json.get("framesInKey");
        if (frames == null
                || !frames.isIntegralNumber()
                || !frames.canConvertToInt()
                || frames.asInt() < 1
                || frames.asInt() > MAX_FRAMES_IN_KEY) {
            throw new InvalidRulesException("framesInKey must be a whole number from 1 to " + MAX_FRAMES_IN_KEY);
        }
        JsonNode suffix = json.get("compilerSuffix");
        if (suffix == null || !suffix.isTextual() || suffix.asText().isBlank()) {
            throw new InvalidRulesException("compilerSuffix must be a regular expression");
        }
        pattern("compilerSuffix", "(?:" + suffix.asText() + ")+$", suffix.asText());
        JsonNode skip = json.get("skipFrames");
        if (skip == null || !skip.isArray()) {
            throw new InvalidRulesException("skipFrames must be an array of regular expressions");
        }
        if (skip.size() > MAX_SKIP_FRAMES) {
            throw new InvalidRulesException("skipFrames has " + skip.size() + " entries; at most " + MAX_SKIP_FRAMES);
        }
        for (int i = 0; i < skip.size(); i++) {
            JsonNode p = skip.get(i);
            if (!p.isTextual() || p.asText().isEmpty()) {
                throw new InvalidRulesException("skipFrames[" + i + "] must be a non-empty regular expression");
            }
            pattern("skipFrames[" + i + "]", p.asText(), p.asText());
        }
        return from(json);
    }

    private static void pattern(String field, String regex, String given) throws InvalidRulesException {
        if (given.length() > MAX_PATTERN) {
            throw new InvalidRulesException(field + " is over " + MAX_PATTERN + " characters");
        }
        try {
            Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new InvalidRulesException(field + " is not a regular expression: " + e.getDescription());
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
