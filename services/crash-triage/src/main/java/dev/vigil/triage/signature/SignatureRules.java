package dev.vigil.triage.signature;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The versioned data that turns a parsed report into a signature: which frames say nothing about the bug (dump
 * and report machinery, scheduling and locking primitives, allocators, string and memory helpers, interrupt and
 * watchdog plumbing), which more to skip for a kind of report (a sanitizer's own frames, lockdep's, the RCU stall
 * reporter's), which compiler suffixes to strip, and how many frames make a key. Rules are data
 * ({@code rules.json}) so a change is reviewable and versioned; {@link #contentSha256()} identifies the content, so
 * an edit that forgot to bump the version is caught. Every pattern runs under RE2/J, in time linear in the frame's
 * length whatever an admin's candidate rules say.
 */
public final class SignatureRules {

    /** The largest rules document accepted: the shipped one is about 8 KiB. */
    public static final int MAX_BYTES = 256 * 1024;

    static final int MAX_FRAMES_IN_KEY = 16;
    static final int MAX_SKIP_FRAMES = 5000;
    static final int MAX_PATTERN = 500;
    private static final Set<String> FIELDS = Set.of(
            "version",
            "comment",
            "framesInKey",
            "compilerSuffix",
            "frameRewrites",
            "skipFrames",
            "skipFramesByReport",
            "entryFrames",
            "outermostReports",
            "markCorrupted");

    /** A rename: a frame matching {@code pattern} is called {@code replacement} ({@code $1} for a group). */
    private record Rewrite(Pattern pattern, String replacement) {}

    private static final ObjectMapper CANONICAL =
            new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private final int version;
    private final int framesInKey;
    private final Pattern compilerSuffix;
    private final Pattern skip;
    private final Map<String, Pattern> skipByReport;
    private final List<Rewrite> rewrites;
    private final Pattern entry;
    private final Set<String> outermost;
    private final boolean markCorrupted;
    private final String contentSha256;
    /**
     * What {@link #normalize} and {@link #skipped(String, String, String)} said for a name: frames repeat across
     * reports (the same machinery in every trace), so each is matched once; bounded, since names come from input.
     */
    private final Map<String, String> normalized = new ConcurrentHashMap<>();

    private final Map<String, Boolean> skippedFor = new ConcurrentHashMap<>();

    private static final int MEMO_LIMIT = 100_000;

    private SignatureRules(
            int version,
            int framesInKey,
            Pattern compilerSuffix,
            List<String> skipFrames,
            Map<String, List<String>> skipByReport,
            List<Rewrite> rewrites,
            List<String> entryFrames,
            Set<String> outermost,
            boolean markCorrupted,
            String contentSha256) {
        this.version = version;
        this.framesInKey = framesInKey;
        this.compilerSuffix = compilerSuffix;
        this.skip = anyOf(skipFrames);
        this.skipByReport = new LinkedHashMap<>();
        skipByReport.forEach((report, patterns) -> this.skipByReport.put(report, anyOf(patterns)));
        this.rewrites = List.copyOf(rewrites);
        this.entry = anyOf(entryFrames);
        this.outermost = Set.copyOf(outermost);
        this.markCorrupted = markCorrupted;
        this.contentSha256 = contentSha256;
    }

    /** The rules shipped with this build. */
    public static SignatureRules current() {
        try (InputStream in = SignatureRules.class.getResourceAsStream("rules.json")) {
            return from(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("the signature rules resource is unreadable", e);
        }
    }

    public int version() {
        return version;
    }

    public int framesInKey() {
        return framesInKey;
    }

    /**
     * Whether a report that does not reliably name what its title needs (no call trace, a trace of reporting
     * machinery only, a first line another message was printed into) is marked corrupted and titled by its kind
     * rather than by a guess. Rules before version 3 did not, and keep signing as they did.
     */
    public boolean markCorrupted() {
        return markCorrupted;
    }

    /** SHA-256 of the rules' content (JSON with sorted keys, comment included), in hex. */
    public String contentSha256() {
        return contentSha256;
    }

    /**
     * Rules from a document in the format of {@code rules.json}, checked strictly: a positive {@code version},
     * {@code framesInKey} 1-16, {@code compilerSuffix} and every {@code skipFrames} entry valid RE2 regular
     * expressions (at most 500 characters, at most 5,000 entries), {@code skipFramesByReport} an optional object
     * from a report class to more such patterns, an optional boolean {@code markCorrupted}, an optional
     * {@code comment}, nothing else.
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
                throw new InvalidRulesException("unknown field " + name + "; rules have " + new TreeSet<>(FIELDS));
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
        pattern("compilerSuffix", suffix.asText());
        patterns("skipFrames", json.get("skipFrames"));
        if (json.has("entryFrames")) {
            patterns("entryFrames", json.get("entryFrames"));
        }
        JsonNode outer = json.get("outermostReports");
        if (outer != null && (!outer.isArray() || !texts(outer).stream().allMatch(t -> t.matches("[a-z-]{1,32}")))) {
            throw new InvalidRulesException("outermostReports must be an array of report classes");
        }
        JsonNode mark = json.get("markCorrupted");
        if (mark != null && !mark.isBoolean()) {
            throw new InvalidRulesException("markCorrupted must be true or false");
        }
        JsonNode rewrites = json.get("frameRewrites");
        if (rewrites != null) {
            if (!rewrites.isArray() || rewrites.size() > MAX_SKIP_FRAMES) {
                throw new InvalidRulesException("frameRewrites must be an array of {pattern, replacement}");
            }
            for (int i = 0; i < rewrites.size(); i++) {
                JsonNode r = rewrites.get(i);
                if (!r.path("pattern").isTextual() || !r.path("replacement").isTextual() || r.size() != 2) {
                    throw new InvalidRulesException("frameRewrites[" + i + "] must be {pattern, replacement}");
                }
                pattern("frameRewrites[" + i + "].pattern", r.get("pattern").asText());
            }
        }
        JsonNode byReport = json.get("skipFramesByReport");
        if (byReport != null) {
            if (!byReport.isObject()) {
                throw new InvalidRulesException("skipFramesByReport must map report classes to arrays of patterns");
            }
            for (var fields = byReport.fields(); fields.hasNext(); ) {
                var field = fields.next();
                patterns("skipFramesByReport." + field.getKey(), field.getValue());
            }
        }
        return from(json);
    }

    private static void patterns(String field, JsonNode skip) throws InvalidRulesException {
        if (skip == null || !skip.isArray()) {
            throw new InvalidRulesException(field + " must be an array of regular expressions");
        }
        if (skip.size() > MAX_SKIP_FRAMES) {
            throw new InvalidRulesException(field + " has " + skip.size() + " entries; at most " + MAX_SKIP_FRAMES);
        }
        for (int i = 0; i < skip.size(); i++) {
            JsonNode p = skip.get(i);
            if (!p.isTextual() || p.asText().isEmpty()) {
                throw new InvalidRulesException(field + "[" + i + "] must be a non-empty regular expression");
            }
            pattern(field + "[" + i + "]", p.asText());
        }
    }

    private static void pattern(String field, String given) throws InvalidRulesException {
        if (given.length() > MAX_PATTERN) {
            throw new InvalidRulesException(field + " is over " + MAX_PATTERN + " characters");
        }
        try {
            Pattern.compile(given);
        } catch (PatternSyntaxException e) {
            throw new InvalidRulesException(field + " is not a regular expression: " + e.getDescription());
        }
    }

    static SignatureRules from(JsonNode json) {
        Map<String, List<String>> byReport = new LinkedHashMap<>();
        json.path("skipFramesByReport").fields().forEachRemaining(f -> byReport.put(f.getKey(), texts(f.getValue())));
        List<Rewrite> rewrites = new ArrayList<>();
        json.path("frameRewrites")
                .forEach(r -> rewrites.add(new Rewrite(
                        Pattern.compile(r.path("pattern").asText()),
                        r.path("replacement").asText())));
        return new SignatureRules(
                json.path("version").asInt(),
                json.path("framesInKey").asInt(3),
                Pattern.compile("(?:" + json.path("compilerSuffix").asText() + ")+$"),
                texts(json.path("skipFrames")),
                byReport,
                rewrites,
                texts(json.path("entryFrames")),
                Set.copyOf(texts(json.path("outermostReports"))),
                json.path("markCorrupted").asBoolean(false),
                sha256(json));
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(p -> texts.add(p.asText()));
        return texts;
    }

    /** One alternation of whole-name patterns: a frame is tested once, not once per pattern. */
    private static Pattern anyOf(List<String> patterns) {
        if (patterns.isEmpty()) {
            return null;
        }
        StringBuilder any = new StringBuilder();
        for (String p : patterns) {
            any.append(any.isEmpty() ? "" : "|").append("(?:").append(p).append(')');
        }
        return Pattern.compile(any.toString());
    }

    private static String sha256(JsonNode json) {
        try {
            Object tree = CANONICAL.treeToValue(json, Object.class);
            byte[] canonical = CANONICAL.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("hashing signature rules", e);
        }
    }

    /**
     * A function name without compiler suffixes ({@code foo.isra.0.cold} is {@code foo}), renamed by the first
     * rewrite that matches it whole (a syscall's {@code __x64_sys_read} is {@code sys_read}).
     */
    public String normalize(String function) {
        if (function == null) {
            return null;
        }
        String known = normalized.get(function);
        if (known != null) {
            return known;
        }
        if (normalized.size() > MEMO_LIMIT) {
            normalized.clear();
        }
        String name = rename(function);
        normalized.put(function, name);
        return name;
    }

    private String rename(String function) {
        String name = compilerSuffix.matcher(function).replaceFirst("");
        for (Rewrite r : rewrites) {
            com.google.re2j.Matcher m = r.pattern().matcher(name);
            if (m.matches()) {
                return m.replaceFirst(r.replacement());
            }
        }
        return name;
    }

    /** True when a trace enters the kernel at this frame (a syscall's entry, a kernel thread, a work item's runner). */
    public boolean entry(String function) {
        if (entry == null) {
            return false;
        }
        String memo = "\u0001entry\u0000" + function;
        Boolean known = skippedFor.get(memo);
        if (known == null) {
            known = entry.matches(normalize(function));
            skippedFor.put(memo, known);
        }
        return known;
    }

    /** True when reports of this class blame the outermost frame of the work that stalled, not the innermost. */
    public boolean outermost(String reportClass) {
        return outermost.contains(reportClass);
    }

    /**
     * True when a frame is machinery for this kind of report: the global rules, then those of its class, then those
     * of its class and subtype ({@code warning:refcount}).
     */
    public boolean skipped(String function, String reportClass, String subtype) {
        String memo = reportClass + '\u0000' + subtype + '\u0000' + function;
        Boolean known = skippedFor.get(memo);
        if (known != null) {
            return known;
        }
        if (skippedFor.size() > MEMO_LIMIT) {
            skippedFor.clear();
        }
        boolean skipped = skippedNow(function, reportClass, subtype);
        skippedFor.put(memo, skipped);
        return skipped;
    }

    private boolean skippedNow(String function, String reportClass, String subtype) {
        String name = normalize(function);
        if (skip != null && skip.matches(name)) {
            return true;
        }
        Pattern own = skipByReport.get(reportClass);
        if (own != null && own.matches(name)) {
            return true;
        }
        Pattern sub = subtype == null ? null : skipByReport.get(reportClass + ":" + subtype);
        return sub != null && sub.matches(name);
    }
}
